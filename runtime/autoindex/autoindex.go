// Package autoindex creates, in the background, the expression indexes that the fields saved
// views, published reports and often-used list columns filter or sort by need, and drops them
// when they go unused.
package autoindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/filter"
)

// How it works. A pass (Reconcile) reads the filters and sorts of every saved view
// (record_views) and published report, resolves each named field against the entity's
// published definition, and wants one btree index per (app, entity, field) that is not already
// indexed by the entity itself (indexed/unique fields, see records.ProvisionIndexes). Per app
// at most Options.MaxPerApp auto indexes exist; the most used fields win. A wanted index is
// built with CREATE INDEX CONCURRENTLY (writes go on), on the same typed expression the list
// and report queries use (filter.FieldExpr), partial on the app, entity and live rows. Its scan
// count (pg_stat_user_indexes) is followed: an index neither wanted nor scanned for
// Options.UnusedFor is dropped, and so is one that stayed wanted but was never scanned in that
// time (the planner does not want it; it is remembered as dropped and not rebuilt while wanted).
// Index names are hashes (ax_<app+entity>_<field+kind>); no user text reaches SQL except field
// keys and entity slugs that match strict patterns, quoted as literals.

// Options tune the manager. Zero values take the defaults.
type Options struct {
	MaxPerApp int           // auto indexes per app (default 16)
	UnusedFor time.Duration // drop after this long unused (default 14 days)
	Interval  time.Duration // between passes in Run (default 1 minute)
	// MinListUses is how many list requests (ListUses) must have filtered or sorted by a
	// field, the last of them within UnusedFor, before it is wanted (default 20).
	MinListUses int
	Now         func() time.Time
	Log         *slog.Logger
}

// Manager reconciles the auto indexes of every app.
type Manager struct {
	pool *pgxpool.Pool
	opts Options
}

// New returns a manager on pool.
func New(pool *pgxpool.Pool, opts Options) *Manager {
	if opts.MaxPerApp <= 0 {
		opts.MaxPerApp = 16
	}
	if opts.UnusedFor <= 0 {
		opts.UnusedFor = 14 * 24 * time.Hour
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.MinListUses <= 0 {
		opts.MinListUses = 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Manager{pool: pool, opts: opts}
}

// lockKey is the session advisory lock that makes one replica at a time reconcile.
const lockKey = 0x7465_7373_6178 // "tessax"

var (
	slugRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	keyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
	nameRe = regexp.MustCompile(`^ax_[0-9a-f]{12}_[0-9a-f]{12}$`)
)

// Use is a field of an entity that a view or report filters or sorts by.
type Use struct {
	AppID  uuid.UUID
	Entity string
	Field  string
}

// Name is the index name of a field: a hash of the app and entity, then of the key and the
// comparison kind (a type change gives a new index).
func Name(appID uuid.UUID, entity, key string, kind filter.Kind) string {
	a := sha256.Sum256([]byte(appID.String() + "|" + entity))
	f := sha256.Sum256([]byte(key + "|" + string(kind)))
	return "ax_" + hex.EncodeToString(a[:6]) + "_" + hex.EncodeToString(f[:6])
}

// Report is what a pass did.
type Report struct {
	Wanted  int
	Created []string
	Dropped []string
	Failed  []string
	Skipped bool // another replica holds the lock
}

// Run reconciles every Interval until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		if _, err := m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			m.opts.Log.Warn("autoindex: pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type want struct {
	use  Use
	name string
	expr string
	uses int
}

// Reconcile runs one pass: records usage, builds the wanted indexes that are missing and
// drops the unused ones.
func (m *Manager) Reconcile(ctx context.Context) (Report, error) {
	var rep Report
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return rep, fmt.Errorf("autoindex: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`+bgMark, lockKey).Scan(&locked); err != nil {
		return rep, fmt.Errorf("autoindex: locking: %w", err)
	}
	if !locked {
		rep.Skipped = true
		return rep, nil
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`+bgMark, lockKey) //nolint:errcheck

	uses, err := m.uses(ctx, bg{conn.Conn()})
	if err != nil {
		return rep, err
	}
	ents, err := entities(ctx, bg{conn.Conn()})
	if err != nil {
		return rep, err
	}
	wants := m.resolve(uses, ents)
	rep.Wanted = len(wants)
	now := m.opts.Now()
	if err := m.followScans(ctx, bg{conn.Conn()}, wants, now); err != nil {
		return rep, err
	}
	if err := m.build(ctx, bg{conn.Conn()}, wants, now, &rep); err != nil {
		return rep, err
	}
	if err := m.dropUnused(ctx, bg{conn.Conn()}, wants, now, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// uses reads the fields that saved views and published reports filter or sort by, and those
// that lists were often filtered or sorted by lately.
func (m *Manager) uses(ctx context.Context, conn bg) ([]Use, error) {
	var out []Use
	rows, err := conn.Query(ctx, `SELECT app_id, entity, config FROM record_views`)
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading views: %w", err)
	}
	type viewRow struct {
		app    uuid.UUID
		entity string
		config []byte
	}
	views, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (viewRow, error) {
		var v viewRow
		return v, r.Scan(&v.app, &v.entity, &v.config)
	})
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading views: %w", err)
	}
	for _, v := range views {
		var c struct {
			Filter json.RawMessage `json:"filter"`
			Sort   string          `json:"sort"`
		}
		if json.Unmarshal(v.config, &c) != nil {
			continue
		}
		for _, k := range append(FilterFields(c.Filter), SortFields(strings.Split(c.Sort, ","))...) {
			out = append(out, Use{AppID: v.app, Entity: v.entity, Field: k})
		}
	}
	rows, err = conn.Query(ctx, `SELECT d.app_id, v.body FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.kind = $1 AND d.published_version > 0`, spec.KindReport)
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading reports: %w", err)
	}
	type repRow struct {
		app  uuid.UUID
		body []byte
	}
	reps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (repRow, error) {
		var v repRow
		return v, r.Scan(&v.app, &v.body)
	})
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading reports: %w", err)
	}
	for _, r := range reps {
		var rp spec.Report
		if json.Unmarshal(r.body, &rp) != nil || rp.Entity == "" {
			continue
		}
		for _, k := range append(FilterFields(rp.Filters), SortFields(rp.Sort)...) {
			out = append(out, Use{AppID: r.app, Entity: rp.Entity, Field: k})
		}
	}
	// fields lists are often filtered or sorted by without a saved view (ListUses); each
	// counts like one view
	rows, err = conn.Query(ctx, `SELECT app_id, entity, field FROM list_uses WHERE uses >= $1 AND last_used > $2`,
		m.opts.MinListUses, m.opts.Now().Add(-m.opts.UnusedFor))
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading list uses: %w", err)
	}
	listed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Use, error) {
		var u Use
		return u, r.Scan(&u.AppID, &u.Entity, &u.Field)
	})
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading list uses: %w", err)
	}
	return append(out, listed...), nil
}

type entKey struct {
	app  uuid.UUID
	slug string
}

// entities reads every published entity (one statement per pass).
func entities(ctx context.Context, conn bg) (map[entKey]*spec.Entity, error) {
	rows, err := conn.Query(ctx, `SELECT d.app_id, d.slug, v.body FROM definitions d
		JOIN definition_versions v ON v.definition_id = d.id AND v.version = d.published_version
		WHERE d.kind = $1 AND d.published_version > 0`, spec.KindEntity)
	if err != nil {
		return nil, fmt.Errorf("autoindex: reading entities: %w", err)
	}
	defer rows.Close()
	out := map[entKey]*spec.Entity{}
	for rows.Next() {
		var k entKey
		var body []byte
		if err := rows.Scan(&k.app, &k.slug, &body); err != nil {
			return nil, fmt.Errorf("autoindex: reading entities: %w", err)
		}
		var e spec.Entity
		if json.Unmarshal(body, &e) == nil {
			out[k] = &e
		}
	}
	return out, rows.Err()
}

// FilterFields lists the field names a filter JSON compares (through and/or/not), in order of
// first appearance. Unparsable filters name none.
func FilterFields(raw json.RawMessage) []string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > filter.MaxDepth {
			return
		}
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				switch k {
				case "and", "or", "not":
					walk(x[k], depth+1)
				default:
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
			}
		}
	}
	walk(v, 0)
	return out
}

// SortFields lists the field names of sort keys ("-amount" → "amount").
func SortFields(keys []string) []string {
	var out []string
	for _, k := range keys {
		k = strings.TrimLeft(strings.TrimSpace(k), "+-")
		k = strings.TrimSpace(k)
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// resolve turns uses into wanted indexes: published fields of a comparable kind that the
// entity does not index itself, at most MaxPerApp per app, most used first.
func (m *Manager) resolve(uses []Use, ents map[entKey]*spec.Entity) map[string]*want {
	all := map[string]*want{}
	for _, u := range uses {
		if !slugRe.MatchString(u.Entity) || !keyRe.MatchString(u.Field) {
			continue
		}
		ent := ents[entKey{u.AppID, u.Entity}]
		if ent == nil {
			continue
		}
		f := ent.Field(u.Field)
		if f == nil || f.Indexed || f.Unique || slices(ent.ReportIndex, f.Key) {
			continue
		}
		expr, kind := filter.FieldExpr("", f)
		if kind == filter.KindArray || kind == filter.KindFiles {
			continue
		}
		name := Name(u.AppID, u.Entity, f.Key, kind)
		if w := all[name]; w != nil {
			w.uses++
			continue
		}
		all[name] = &want{use: Use{AppID: u.AppID, Entity: u.Entity, Field: f.Key}, name: name, expr: expr, uses: 1}
	}
	byApp := map[uuid.UUID][]*want{}
	for _, w := range all {
		byApp[w.use.AppID] = append(byApp[w.use.AppID], w)
	}
	out := map[string]*want{}
	for _, ws := range byApp {
		sort.Slice(ws, func(i, j int) bool {
			if ws[i].uses != ws[j].uses {
				return ws[i].uses > ws[j].uses
			}
			return ws[i].name < ws[j].name
		})
		for i, w := range ws {
			if i >= m.opts.MaxPerApp {
				break
			}
			out[w.name] = w
		}
	}
	return out
}

func slices(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// followScans moves used_at of the indexes whose scan count grew, and wanted_at of the wanted.
func (m *Manager) followScans(ctx context.Context, conn bg, wants map[string]*want, now time.Time) error {
	names := make([]string, 0, len(wants))
	for n := range wants {
		names = append(names, n)
	}
	if _, err := conn.Exec(ctx, `UPDATE auto_indexes a SET
			used_at = CASE WHEN s.idx_scan > a.scans THEN $1 ELSE a.used_at END,
			scans = greatest(a.scans, s.idx_scan)
		FROM pg_stat_user_indexes s WHERE s.indexrelname = a.name AND s.relname = 'records'`, now); err != nil {
		return fmt.Errorf("autoindex: reading scans: %w", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE auto_indexes SET wanted_at = $1 WHERE name = ANY($2)`, now, names); err != nil {
		return fmt.Errorf("autoindex: marking wanted: %w", err)
	}
	return nil
}

// build creates the wanted indexes not built yet, one at a time, concurrently.
func (m *Manager) build(ctx context.Context, conn bg, wants map[string]*want, now time.Time, rep *Report) error {
	names := make([]string, 0, len(wants))
	for n := range wants {
		names = append(names, n)
	}
	sort.Strings(names)
	analyze := false
	for _, n := range names {
		w := wants[n]
		var status string
		err := conn.QueryRow(ctx, `SELECT status FROM auto_indexes WHERE name = $1`, n).Scan(&status)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("autoindex: %w", err)
		}
		if status == "ready" {
			// indexes built before statistics came along get theirs now
			if made, err := ensureStats(ctx, conn, n, w.expr); err != nil {
				m.opts.Log.Warn("autoindex: statistics failed", "index", n, "error", err)
			} else if made {
				analyze = true
			}
			continue
		}
		if status == "dropped" || status == "failed" {
			continue
		}
		if _, err := conn.Exec(ctx, `INSERT INTO auto_indexes (name, app_id, entity, field, status, created_at, used_at, wanted_at)
			VALUES ($1, $2, $3, $4, 'building', $5, $5, $5) ON CONFLICT (name) DO UPDATE SET status = 'building', error = NULL`,
			n, w.use.AppID, w.use.Entity, w.use.Field, now); err != nil {
			return fmt.Errorf("autoindex: %w", err)
		}
		// Only validated identifiers reach this statement: the name is a hash, the app id a
		// UUID, the entity slug and field key match strict patterns and are quoted literals.
		sql := fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON records ((%s), id) WHERE app_id = '%s' AND entity = %s AND deleted_at IS NULL`,
			n, w.expr, w.use.AppID.String(), quoteLit(w.use.Entity))
		_, err = conn.Exec(ctx, sql)
		if err == nil {
			var valid bool
			if err = conn.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`, n).Scan(&valid); err == nil && !valid {
				err = errors.New("the index was left invalid")
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// a failed concurrent build leaves an invalid index behind: remove it
			_, _ = conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+n)
			m.opts.Log.Warn("autoindex: building failed", "index", n, "entity", w.use.Entity, "field", w.use.Field, "error", err)
			if _, e := conn.Exec(ctx, `UPDATE auto_indexes SET status = 'failed', error = $2 WHERE name = $1`, n, err.Error()); e != nil {
				return fmt.Errorf("autoindex: %w", e)
			}
			rep.Failed = append(rep.Failed, n)
			continue
		}
		if _, err := ensureStats(ctx, conn, n, w.expr); err != nil {
			m.opts.Log.Warn("autoindex: statistics failed", "index", n, "error", err)
		}
		if _, err := conn.Exec(ctx, `UPDATE auto_indexes SET status = 'ready', used_at = $2 WHERE name = $1`, n, now); err != nil {
			return fmt.Errorf("autoindex: %w", err)
		}
		rep.Created = append(rep.Created, n)
		analyze = true
	}
	if analyze {
		// Statistics on the new expressions exist only from the table's next ANALYZE.
		if _, err := conn.Exec(ctx, `ANALYZE records`); err != nil && ctx.Err() == nil {
			m.opts.Log.Warn("autoindex: analyze after building failed", "error", err)
		}
	}
	return nil
}

// statsName is the extended statistics object that goes with auto index n.
func statsName(n string) string { return n + "_st" }

// ensureStats creates the extended statistics on the index's expression unless they exist, and
// says whether it created them. The planner ignores the statistics of a partial index (every
// auto index is partial), so without these it guesses an expression's selectivity (0.5% for an
// equality) and, for a first page in the default order, walks the created_at index filtering
// every row instead of using the auto index: an `eq` matching 10 of 1M rows took 497 ms instead
// of 0.2 ms. The name derives from the index name (a hash); the expression is the validated one
// the index is built on.
func ensureStats(ctx context.Context, conn bg, n, expr string) (bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxname = $1)`, statsName(n)).Scan(&exists); err != nil || exists {
		return false, err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE STATISTICS IF NOT EXISTS %s ON (%s) FROM records`, statsName(n), expr)); err != nil {
		return false, err
	}
	return true, nil
}

// dropUnused drops the indexes unused for UnusedFor: no longer wanted and not scanned, or
// wanted but never scanned. Forgotten rows (app gone, no longer wanted, dropped) are removed;
// an index whose row is gone (e.g. the app was deleted) is dropped too.
func (m *Manager) dropUnused(ctx context.Context, conn bg, wants map[string]*want, now time.Time, rep *Report) error {
	cutoff := now.Add(-m.opts.UnusedFor)
	rows, err := conn.Query(ctx, `SELECT c.relname, coalesce(a.status, ''), coalesce(a.used_at, 'epoch'), coalesce(a.wanted_at, 'epoch')
		FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN auto_indexes a ON a.name = c.relname
		WHERE c.relkind = 'i' AND c.relname LIKE 'ax\_%' AND i.indrelid = 'records'::regclass`)
	if err != nil {
		return fmt.Errorf("autoindex: listing: %w", err)
	}
	type ix struct {
		name, status   string
		used, wantedAt time.Time
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ix, error) {
		var x ix
		return x, r.Scan(&x.name, &x.status, &x.used, &x.wantedAt)
	})
	if err != nil {
		return fmt.Errorf("autoindex: listing: %w", err)
	}
	for _, x := range list {
		if !nameRe.MatchString(x.name) {
			continue
		}
		_, wanted := wants[x.name]
		drop := x.status == "" || // no row: its app is gone
			(x.used.Before(cutoff) && (!wanted || x.status == "ready"))
		if !drop {
			continue
		}
		if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+x.name); err != nil {
			return fmt.Errorf("autoindex: dropping %s: %w", x.name, err)
		}
		if _, err := conn.Exec(ctx, `DROP STATISTICS IF EXISTS `+statsName(x.name)); err != nil {
			return fmt.Errorf("autoindex: dropping statistics of %s: %w", x.name, err)
		}
		rep.Dropped = append(rep.Dropped, x.name)
		if wanted {
			// still wanted but the planner never used it: do not rebuild it while wanted
			if _, err := conn.Exec(ctx, `UPDATE auto_indexes SET status = 'dropped' WHERE name = $1`, x.name); err != nil {
				return fmt.Errorf("autoindex: %w", err)
			}
		} else if _, err := conn.Exec(ctx, `DELETE FROM auto_indexes WHERE name = $1`, x.name); err != nil {
			return fmt.Errorf("autoindex: %w", err)
		}
	}
	// rows no longer wanted whose index is gone (dropped or failed) are forgotten, so a view
	// that wants the field again later gets a fresh try
	if _, err := conn.Exec(ctx, `DELETE FROM auto_indexes WHERE status IN ('dropped', 'failed') AND wanted_at < $1`, now); err != nil {
		return fmt.Errorf("autoindex: %w", err)
	}
	return nil
}

// bg is a connection whose statements are marked as background work (runtime/dbtest's
// statement counter leaves them out of the operations it measures).
type bg struct{ c *pgx.Conn }

const bgMark = " /* tessera:background */"

func (b bg) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return b.c.Exec(ctx, sql+bgMark, args...)
}

func (b bg) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return b.c.Query(ctx, sql+bgMark, args...)
}

func (b bg) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return b.c.QueryRow(ctx, sql+bgMark, args...)
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Index is an auto index as listed by List.
type Index struct {
	Name, Entity, Field, Status string
	Scans                       int64
	UsedAt                      time.Time
}

// List answers the auto indexes of an app (for operators and tests).
func List(ctx context.Context, pool *pgxpool.Pool, appID uuid.UUID) ([]Index, error) {
	rows, err := pool.Query(ctx, `SELECT name, entity, field, status, scans, used_at FROM auto_indexes WHERE app_id = $1 ORDER BY entity, field`, appID)
	if err != nil {
		return nil, fmt.Errorf("autoindex: listing: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Index, error) {
		var x Index
		return x, r.Scan(&x.Name, &x.Entity, &x.Field, &x.Status, &x.Scans, &x.UsedAt)
	})
}
