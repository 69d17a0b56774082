package records

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	MaxQLength   = 200
)

// cursor is the decoded position after the last row of a page.
type cursor struct {
	Sort string    `json:"s"` // hash of the sort spec the cursor belongs to
	Vals []*string `json:"v"` // the sort key values (text form) of the last row
	ID   uuid.UUID `json:"i"`
}

func sortHash(spec string) string {
	h := sha256.Sum256([]byte(spec))
	return hex.EncodeToString(h[:6])
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

// where builds the WHERE clause shared by List and Count: app, entity, liveness, scope,
// filter and q.
func where(app *defs.App, ent *spec.Entity, qy ListQuery, g access.Grant, args *[]any) (string, error) {
	var parts []string
	if slugRe.MatchString(ent.Slug) {
		// literals (a UUID and a validated slug) let the planner use the entity's partial
		// expression indexes for filters and sorts
		parts = []string{fmt.Sprintf("r.app_id = '%s'", app.ID.String()), "r.entity = " + quoteLit(ent.Slug), "r.deleted_at IS NULL"}
	} else {
		*args = append(*args, app.ID, ent.Slug)
		parts = []string{fmt.Sprintf("r.app_id = $%d", len(*args)-1), fmt.Sprintf("r.entity = $%d", len(*args)), "r.deleted_at IS NULL"}
	}
	if p := g.RowPredicate("r", args); p != "" {
		parts = append(parts, p)
	}
	pred, err := filter.Compile(qy.Filter, ent, g.Hidden, "r", args)
	if err != nil {
		return "", err
	}
	if pred != "" {
		parts = append(parts, pred)
	}
	if q := strings.TrimSpace(qy.Q); q != "" {
		if utf8.RuneCountInString(q) > MaxQLength {
			return "", spec.Errors{{Field: "q", Code: "too_long", Message: fmt.Sprintf("search text is longer than %d characters (搜索内容过长)", MaxQLength)}}
		}
		var ors []string
		*args = append(*args, filter.LikePattern(q))
		n := len(*args)
		// Phone fields hold E.164 (+8613800138000): a search written as a phone number
		// ("138 0013 8000", "138-0013") matches on its digits.
		phoneArg := 0
		if d, ok := phoneDigits(q); ok {
			*args = append(*args, filter.LikePattern(d))
			phoneArg = len(*args)
		}
		for i := range ent.Fields {
			f := &ent.Fields[i]
			if g.Hidden[f.Key] || !searchable(f) {
				continue
			}
			ors = append(ors, fmt.Sprintf("(r.data->>%s) ILIKE $%d", quoteLit(f.Key), n))
			if f.Type == spec.TypePhone && phoneArg > 0 {
				ors = append(ors, fmt.Sprintf("(r.data->>%s) LIKE $%d", quoteLit(f.Key), phoneArg))
			}
		}
		if len(ors) == 0 {
			parts = append(parts, "false")
		} else {
			parts = append(parts, "("+strings.Join(ors, " OR ")+")")
		}
	}
	return strings.Join(parts, " AND "), nil
}

// phoneDigits answers the digits of q when q is written like a phone number (digits with
// spaces, dashes, dots, brackets or a leading +, at least 3 digits); a leading 0 of a national
// trunk prefix is kept, since E.164 drops it only for some regions.
func phoneDigits(q string) (string, bool) {
	var b strings.Builder
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		case r == '+' && i == 0:
		default:
			return "", false
		}
	}
	d := b.String()
	if len(d) < 3 || d == q {
		return "", false // plain digits already match through the text search
	}
	return d, true
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// searchable reports whether the full-text q looks into f (text-like fields unless the field
// says searchable: false).
func searchable(f *spec.Field) bool {
	if f.Searchable != nil {
		return *f.Searchable
	}
	switch f.Type {
	case spec.TypeText, spec.TypeTextarea, spec.TypeEmail, spec.TypePhone, spec.TypeURL, spec.TypeSelect, spec.TypeAutonumber:
		return true
	}
	return false
}

// List returns one page of records in the grant's scope, filtered, searched and sorted
// (default -created_at), with an opaque cursor for the next page.
func (s *Store) List(ctx context.Context, app *defs.App, entity string, qy ListQuery, g access.Grant) (*Page, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	limit := qy.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	sortSpec := strings.TrimSpace(qy.Sort)
	if sortSpec == "" {
		sortSpec = "-created_at"
	}
	keys, err := filter.SortKeys(sortSpec, ent, g.Hidden, "r")
	if err != nil {
		return nil, err
	}
	var args []any
	w, err := where(app, ent, qy, g, &args)
	if err != nil {
		return nil, err
	}
	// sort keys other than id, with the id tie-breaker last
	var sk []filter.SortKey
	idDesc := filter.IDDesc(keys)
	for _, k := range keys {
		if k.Name == "id" {
			continue
		}
		sk = append(sk, k)
	}
	// the conditions without the cursor's (which, appended past the capacity, go to a new array)
	base, baseArgs := w, args[:len(args):len(args)]
	nullTail := "" // see afterPredicate
	if qy.Cursor != "" {
		c, ok := decodeCursor(qy.Cursor)
		if !ok || c.Sort != sortHash(sortSpec) || len(c.Vals) != len(sk) {
			return nil, spec.Errors{{Field: "cursor", Code: "invalid", Message: "the cursor is invalid or belongs to another sort (分页游标无效)"}}
		}
		var after string
		after, nullTail = afterPredicate(sk, idDesc, c, &args)
		w += " AND " + after
	}
	cols := recordCols
	for i, k := range sk {
		cols += fmt.Sprintf(", (%s)::text AS sk%d", k.Expr, i)
	}
	page := &Page{Items: []*Record{}}
	var lastVals []*string
	// read adds the rows of one query to the page, leaving out those in skip; full: the page
	// is complete (and has its next cursor when more rows follow)
	read := func(where string, args []any, skip map[uuid.UUID]bool) (full bool, err error) {
		sql := fmt.Sprintf(`SELECT %s FROM records r WHERE %s ORDER BY %s LIMIT %d`, prefixCols(cols), where, filter.OrderBy(keys, "r"), limit+1)
		if s.traceQuery != nil {
			s.traceQuery(sql, args)
		}
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return false, queryError("listing records", err)
		}
		defer rows.Close()
		for rows.Next() {
			r := &Record{Entity: entity}
			var raw []byte
			vals := make([]*string, len(sk))
			dest := []any{&r.ID, &raw, &r.Version, &r.OwnerID, &r.TeamID, &r.CreatedAt, &r.UpdatedAt}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return false, queryError("reading records", err)
			}
			if err := decodeData(raw, &r.Data); err != nil {
				return false, fmt.Errorf("decoding record data: %w", err)
			}
			if skip[r.ID] {
				continue
			}
			if len(page.Items) == limit {
				c := encodeCursor(cursor{Sort: sortHash(sortSpec), Vals: lastVals, ID: page.Items[len(page.Items)-1].ID})
				page.NextCursor = &c
				return true, nil
			}
			page.Items = append(page.Items, visible(r, g))
			lastVals = vals
		}
		if err := rows.Err(); err != nil {
			return false, queryError("listing records", err)
		}
		return false, nil
	}
	full, err := read(w, args, nil)
	if err != nil {
		return nil, err
	}
	if full || nullTail == "" {
		return page, nil
	}
	// the records whose sort key is NULL, which follow every value in an ascending order (up to
	// a whole page of them). This query reads its own snapshot: a record whose field was
	// emptied since the first query's is on the page already, and is left out.
	onPage := make(map[uuid.UUID]bool, len(page.Items))
	for _, r := range page.Items {
		onPage[r.ID] = true
	}
	if _, err := read(base+" AND "+nullTail, baseArgs, onPage); err != nil {
		return nil, err
	}
	return page, nil
}

func prefixCols(cols string) string {
	return strings.NewReplacer("id, data, version, owner_id, team_id, created_at, updated_at",
		"r.id, r.data, r.version, r.owner_id, r.team_id, r.created_at, r.updated_at").Replace(cols)
}

// afterPredicate is the keyset condition "row comes after the cursor" for the ORDER BY that
// filter.OrderBy renders (ascending keys NULLS LAST, descending keys NULLS FIRST, then id).
//
// When every key runs in the id's direction and the cursor holds no NULL, the condition is one
// row comparison, which PostgreSQL uses as the bound of an index scan on the keys and the id
// (the records index for created_at and updated_at, runtime/autoindex's ((field), id) for a
// field): any page costs the same at any depth. A row comparison leaves out the rows whose key
// is NULL. Descending, those come first, before the cursor, so nothing is lost. Ascending, they
// come last: for one key, nullTail is the condition that selects them (the caller lists them
// after the rows the comparison finds, up to the page's end); with more keys, the NULLs of a
// later key fall between values of an earlier one, and the condition is the general one below.
func afterPredicate(keys []filter.SortKey, idDesc bool, c cursor, args *[]any) (after, nullTail string) {
	arg := func(v any, typ string) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d::%s", len(*args), typ)
	}
	idOp := ">"
	if idDesc {
		idOp = "<"
	}
	if ok, tail := rowComparable(keys, idDesc, c); ok {
		var cols, vals []string
		for i, k := range keys {
			cols = append(cols, k.Expr)
			vals = append(vals, arg(*c.Vals[i], castType(k.Kind)))
		}
		cols = append(cols, "r.id")
		vals = append(vals, arg(c.ID, "uuid"))
		return fmt.Sprintf("((%s) %s (%s))", strings.Join(cols, ", "), idOp, strings.Join(vals, ", ")), tail
	}
	var ors []string
	var eqs []string
	for i, k := range keys {
		typ := castType(k.Kind)
		v := c.Vals[i]
		var after string
		switch {
		case v == nil && !k.Desc:
			after = "false" // NULLs are last ascending: only more NULLs follow (decided by id)
		case v == nil && k.Desc:
			after = k.Expr + " IS NOT NULL" // NULLs are first descending: every value follows
		case !k.Desc:
			after = fmt.Sprintf("(%s > %s OR %s IS NULL)", k.Expr, arg(*v, typ), k.Expr)
		default:
			after = fmt.Sprintf("%s < %s", k.Expr, arg(*v, typ))
		}
		ors = append(ors, "("+strings.Join(append(append([]string{}, eqs...), after), " AND ")+")")
		if v == nil {
			eqs = append(eqs, k.Expr+" IS NULL")
		} else {
			eqs = append(eqs, fmt.Sprintf("%s = %s", k.Expr, arg(*v, typ)))
		}
	}
	ors = append(ors, "("+strings.Join(append(append([]string{}, eqs...), fmt.Sprintf("r.id %s %s", idOp, arg(c.ID, "uuid"))), " AND ")+")")
	return "(" + strings.Join(ors, " OR ") + ")", ""
}

// rowComparable tells whether the keyset condition can be one row comparison (see
// afterPredicate): every key runs in the id's direction, the cursor holds no NULL, and the
// keys that may be NULL are either descending or the only key. tail is then the condition
// on the rows the comparison leaves out that follow the cursor ("" when there are none).
func rowComparable(keys []filter.SortKey, idDesc bool, c cursor) (ok bool, tail string) {
	for i, k := range keys {
		if k.Desc != idDesc || c.Vals[i] == nil {
			return false, ""
		}
		if !k.NotNull() && !k.Desc {
			if len(keys) > 1 {
				return false, ""
			}
			tail = k.Expr + " IS NULL"
		}
	}
	return true, tail
}

func castType(k filter.Kind) string {
	switch k {
	case filter.KindNumeric, filter.KindDate, filter.KindTimestamp, filter.KindUUID:
		return string(k)
	case filter.KindBool:
		return "jsonb"
	}
	return "text"
}

// Count counts the records a list query would return (all pages).
func (s *Store) Count(ctx context.Context, app *defs.App, entity string, qy ListQuery, g access.Grant) (int64, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return 0, err
	}
	if !g.Allowed() {
		return 0, ErrForbidden
	}
	var args []any
	w, err := where(app, ent, qy, g, &args)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM records r WHERE `+w, args...).Scan(&n); err != nil {
		return 0, queryError("counting records", err)
	}
	return n, nil
}

// queryError turns PostgreSQL data exceptions (class 22: a value that does not fit its type,
// e.g. from a tampered cursor) into a 422 instead of an internal error.
func queryError(step string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
		return spec.Errors{{Field: "filter", Code: "invalid_value", Message: "a filter, search or cursor value is not valid for its field (查询条件无效)"}}
	}
	return fmt.Errorf("%s: %w", step, err)
}

// MaxGroups is the most groups GroupCounts answers.
const MaxGroups = 200

// GroupCount is one group of a grouped list: the field's value (nil for records without one)
// and how many records the list query holds with it.
type GroupCount struct {
	Value any   `json:"value"`
	Count int64 `json:"count"`
}

// GroupCounts counts the records a list query would return per value of field (a select,
// user, team, relation or yes/no field holding one value, or owner_id/team_id), largest
// groups first, at most MaxGroups.
func (s *Store) GroupCounts(ctx context.Context, app *defs.App, entity string, qy ListQuery, field string, g access.Grant) ([]GroupCount, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	var expr string
	switch field {
	case "owner_id", "team_id":
		expr = "r." + field + "::text"
	default:
		f := ent.Field(field)
		if f == nil || g.Hidden[field] || !GroupableTypes[f.Type] || f.Multiple {
			return nil, spec.Errors{{Field: "group", Code: "invalid", Message: "rows can be grouped by a select, user, team, relation or yes/no field only (只能按单选、人员、团队、关联或是/否字段分组)"}}
		}
		expr = "r.data->>" + quoteLit(f.Key)
	}
	var args []any
	w, err := where(app, ent, qy, g, &args)
	if err != nil {
		return nil, err
	}
	sql := fmt.Sprintf(`SELECT %s AS v, count(*) FROM records r WHERE %s GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST LIMIT %d`, expr, w, MaxGroups)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, queryError("grouping records", err)
	}
	defer rows.Close()
	out := []GroupCount{}
	for rows.Next() {
		var v *string
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("grouping records: %w", err)
		}
		gc := GroupCount{Count: n}
		if v != nil {
			gc.Value = *v
			if f := ent.Field(field); f != nil && f.Type == spec.TypeBoolean {
				gc.Value = *v == "true"
			}
		}
		out = append(out, gc)
	}
	return out, rows.Err()
}
