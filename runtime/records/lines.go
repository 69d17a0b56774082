package records

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
)

// Lines fields (spec.TypeLines) hold child rows inside the record's data: a JSON array of
// objects, one per row, each with a server-assigned "id" and the values of the field's
// sub-fields. Keeping the rows in the record (rather than in a child table) makes them part of
// the record's version, history, gates, triggers and permissions: whoever cannot read the
// record cannot read its rows, with no second permission check to keep in sync. Filters and
// reports reach the rows with a set-returning jsonb_array_elements over the record's row (see
// runtime/filter and runtime/report).

// DefaultMaxRows is the most rows a lines field holds when it does not say (max_rows).
const DefaultMaxRows = 200

func maxRows(f *spec.Field) int {
	if f.MaxRows > 0 {
		return f.MaxRows
	}
	return DefaultMaxRows
}

// normalizeLines validates and normalises the rows of lines field f: a list of objects (or a
// JSON text of one, as CSV imports carry it). Every row keeps its "id" when it is a UUID not
// used by an earlier row, else gets a new one; formula and read-only sub-fields are dropped
// (the server computes and fills them); sub-field defaults fill missing values. Errors are
// reported per row and column ("items[2].quantity"). Required sub-fields are checked after
// the write's fills (checkLineRows).
func normalizeLines(f *spec.Field, v any, path string, errs *spec.Errors) any {
	if s, ok := v.(string); ok {
		var parsed any
		if err := json.Unmarshal([]byte(s), &parsed); err != nil {
			errs.Add(path, "invalid_type", "expected a list of rows (应为明细行列表)")
			return nil
		}
		if isEmpty(parsed) {
			return nil
		}
		v = parsed
	}
	rows, ok := v.([]any)
	if !ok {
		errs.Add(path, "invalid_type", "expected a list of rows (应为明细行列表)")
		return nil
	}
	if max := maxRows(f); len(rows) > max {
		errs.Add(path, "too_many", "at most %d rows (最多 %d 行)", max, max)
		return nil
	}
	out := make([]any, 0, len(rows))
	seen := map[string]bool{}
	for i, r := range rows {
		rp := fmt.Sprintf("%s[%d]", path, i)
		in, ok := r.(map[string]any)
		if !ok {
			errs.Add(rp, "invalid_type", "each row is an object of column values (每行应为列值对象)")
			continue
		}
		keys := make([]string, 0, len(in))
		for k := range in {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		row := map[string]any{}
		for _, k := range keys {
			if k == spec.LineID {
				continue
			}
			sf := f.SubField(k)
			if sf == nil {
				errs.Add(rp+"."+truncate(k), "unknown_field", "unknown column %q (未知列)", truncate(k))
				continue
			}
			if sf.Type == spec.TypeFormula || sf.ReadOnly {
				continue // computed or filled by the server
			}
			if nv := Normalize(sf, in[k], rp+"."+k, errs); nv != nil {
				row[k] = nv
			}
		}
		for j := range f.Fields {
			sf := &f.Fields[j]
			if _, has := row[sf.Key]; has || sf.ReadOnly || len(sf.Default) == 0 || string(sf.Default) == "null" {
				continue
			}
			var d any
			if json.Unmarshal(sf.Default, &d) == nil && !strings.HasPrefix(fmt.Sprint(d), "$") {
				var derrs spec.Errors
				if nv := Normalize(sf, d, "", &derrs); nv != nil && len(derrs) == 0 {
					row[sf.Key] = nv
				}
			}
		}
		id, ok := idOf(in[spec.LineID])
		if !ok || seen[id] {
			id = uuid.NewString()
		}
		seen[id] = true
		row[spec.LineID] = id
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rowsOf returns the rows a lines value holds (nil for anything else).
func rowsOf(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// checkLineRows reports required sub-fields missing from the rows of every lines field in
// data (after fills, before formulas).
func checkLineRows(ent *spec.Entity, data map[string]any) error {
	var errs spec.Errors
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeLines {
			continue
		}
		for r, row := range rowsOf(data[f.Key]) {
			for j := range f.Fields {
				sf := &f.Fields[j]
				if sf.Required && sf.Type != spec.TypeFormula && isEmpty(row[sf.Key]) {
					errs.Add(fmt.Sprintf("%s[%d].%s", f.Key, r, sf.Key), "required", "%s is required (%s 为必填项)", fieldLabel(sf), sf.Label.Text("zh-CN", sf.Key))
				}
			}
		}
	}
	return errs.Err()
}

// resolveLines checks the references of the rows of lines field f that are new or changed
// (relation, user and team columns; an unchanged row of old is not re-checked, as links on a
// record are not) and applies the fill mappings of relation columns: a read-only column is
// always copied from the chosen record, another one only when the row leaves it empty. A
// row whose relation is unchanged keeps its read-only columns as they were. Fields of the
// chosen record that are hidden from the writer are not copied.
func (s *Store) resolveLines(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity, f *spec.Field, data, old map[string]any, w WriteOptions, errs *spec.Errors) error {
	rows := rowsOf(data[f.Key])
	if len(rows) == 0 {
		return nil
	}
	oldRows := map[string]map[string]any{}
	for _, r := range rowsOf(old[f.Key]) {
		if id, ok := r[spec.LineID].(string); ok {
			oldRows[id] = r
		}
	}
	for j := range f.Fields {
		sf := &f.Fields[j]
		if sf.Type != spec.TypeRelation && sf.Type != spec.TypeUser {
			continue
		}
		// the rows whose value of this column is new: they are checked (and filled)
		changed := map[string][]int{}
		for r, row := range rows {
			id, _ := row[sf.Key].(string)
			prev := oldRows[fmt.Sprint(row[spec.LineID])]
			if prev != nil && prev[sf.Key] == row[sf.Key] {
				for col := range sf.Fill {
					if to := f.SubField(col); to != nil && to.ReadOnly {
						setOrDelete(row, col, prev[col])
					}
				}
				continue
			}
			for col := range sf.Fill {
				if to := f.SubField(col); to != nil && to.ReadOnly {
					delete(row, col)
				}
			}
			if id != "" {
				changed[id] = append(changed[id], r)
			}
		}
		if len(changed) == 0 {
			continue
		}
		ids := make([]string, 0, len(changed))
		for id := range changed {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if sf.Type == spec.TypeUser {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE id = ANY($1::uuid[])`, ids).Scan(&n); err != nil {
				return fmt.Errorf("checking %s.%s: %w", f.Key, sf.Key, err)
			}
			if n != len(ids) {
				for _, id := range ids {
					for _, r := range changed[id] {
						errs.Add(fmt.Sprintf("%s[%d].%s", f.Key, r, sf.Key), "not_found", "unknown user (不存在)")
					}
				}
			}
			continue
		}
		target := sf.Target
		args := []any{ids, app.ID, target}
		sql := `SELECT r.id::text, r.data FROM records r WHERE r.id = ANY($1::uuid[]) AND r.app_id = $2 AND r.entity = $3 AND r.deleted_at IS NULL`
		hidden := map[string]bool{}
		if w.LinkGrant != nil {
			lg, err := w.LinkGrant(ctx, target)
			if err != nil {
				return fmt.Errorf("checking %s.%s: %w", f.Key, sf.Key, err)
			}
			if !lg.Allowed() {
				sql += " AND false"
			} else if pred := lg.RowPredicate("r", &args); pred != "" {
				sql += " AND " + pred
			}
			hidden = lg.Hidden
		}
		found := map[string]map[string]any{}
		rs, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("checking %s.%s: %w", f.Key, sf.Key, err)
		}
		for rs.Next() {
			var id string
			var raw []byte
			if err := rs.Scan(&id, &raw); err != nil {
				rs.Close()
				return fmt.Errorf("reading %s.%s: %w", f.Key, sf.Key, err)
			}
			var d map[string]any
			if err := decodeData(raw, &d); err != nil {
				rs.Close()
				return fmt.Errorf("decoding %s.%s: %w", f.Key, sf.Key, err)
			}
			found[id] = d
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("reading %s.%s: %w", f.Key, sf.Key, err)
		}
		var targetEnt *spec.Entity
		if len(sf.Fill) > 0 {
			if targetEnt, _, err = s.entity(ctx, app, target); err != nil {
				targetEnt = nil
			}
		}
		for _, id := range ids {
			src, ok := found[id]
			for _, r := range changed[id] {
				if !ok {
					errs.Add(fmt.Sprintf("%s[%d].%s", f.Key, r, sf.Key), "not_found", "the linked %s record does not exist (关联记录不存在)", target)
					continue
				}
				if targetEnt != nil {
					fillRow(f, sf, rows[r], src, targetEnt, hidden)
				}
			}
		}
	}
	return nil
}

// fillRow copies the fields of the chosen record src into row along relation column sf's fill
// mapping (normalised to the column's type; a value that does not fit is left out).
func fillRow(f, sf *spec.Field, row, src map[string]any, target *spec.Entity, hidden map[string]bool) {
	cols := make([]string, 0, len(sf.Fill))
	for col := range sf.Fill {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		to := f.SubField(col)
		from := sf.Fill[col]
		if to == nil || hidden[from] || target.Field(from) == nil {
			continue
		}
		if !to.ReadOnly && !isEmpty(row[col]) {
			continue
		}
		var ferrs spec.Errors
		if v := Normalize(to, src[from], col, &ferrs); v != nil && len(ferrs) == 0 {
			row[col] = v
		}
	}
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// computeLineFormulas computes the formula sub-fields of every row of every lines field in data
// (the row as `line`, the record as `record`), in sub-field order; a failing formula leaves the
// column empty.
func computeLineFormulas(ent *spec.Entity, c *compiled, data, old map[string]any, now time.Time) {
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if f.Type != spec.TypeLines {
			continue
		}
		for _, row := range rowsOf(data[f.Key]) {
			for j := range f.Fields {
				sf := &f.Fields[j]
				if sf.Type != spec.TypeFormula {
					continue
				}
				setOrDelete(row, sf.Key, runFormula(c.formulas[f.Key+"."+sf.Key], map[string]any{"line": row, "record": data, "old": old, "now": now}))
			}
		}
	}
}
