// Package demo generates demo data for an installed app: teams and people, and months of
// consistent records with their stage histories, so that every list, report and dashboard of a
// template is meaningful on first start.
//
// The generator reads the app's published entities and fills every field by its type and key
// (names, companies, phone numbers, amounts, dates inside the record's life), links relations
// to records created before (and keeps chains consistent: a quote's account is its deal's
// account), gives records owners across the generated teams, and walks entities with stages
// through a funnel with realistic stays. Records are written through records.BulkInsert: the
// write path's validation, defaults, autonumbers and formulas, with the history the write path
// would have written at the generated times, but no flows or notifications.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
)

// Options choose how much data to generate.
type Options struct {
	// Primary is the entity whose record count is Count (default: "lead" when the app has it,
	// else its first entity). Other entities get counts relative to it (see ratio).
	Primary string
	Count   int // records of the primary entity (default 2,000)
	Months  int // length of the generated history (default 6)
	Seed    uint64
	Now     time.Time
	// Actor is recorded as the one who assigned the demo people their roles (audit).
	Actor uuid.UUID
	// Progress, when set, is told each step as it finishes.
	Progress func(step string, done, total int)
}

// Summary tells what was generated.
type Summary struct {
	App      string         `json:"app"`
	Teams    int            `json:"teams"`
	People   int            `json:"people"`
	Records  map[string]int `json:"records"`
	Duration time.Duration  `json:"duration_ms"`
}

// Deps are the services the generator writes through.
type Deps struct {
	Pool    *pgxpool.Pool
	Loader  *defs.Loader
	Records *records.Store
	Authz   *authz.Authorizer
}

// MaxCount bounds the primary entity's record count of one call.
const MaxCount = 1_000_000

// ErrBadOptions marks invalid options (a count out of range, an unknown primary entity).
var ErrBadOptions = errors.New("demo: invalid options")

// ratio is the default record count of well-known entities relative to the primary entity
// (a negative value is an absolute count, 0 none); any other entity gets defaultRatio.
var ratio = map[string]float64{
	"account": 0.12, "customer": 0.12, "company": 0.12,
	"deal": 0.3, "opportunity": 0.3,
	"product": -12, "campaign": -8, "price": -12,
	// configuration tables (routing rules) keep what the template installed: demo rows would
	// change how real records are routed
	"routing": 0, "routing_rule": 0, "rule": 0, "setting": 0, "config": 0,
	"quote": 0.15, "contract": 0.06, "order": 0.06,
	"followup": 0.5, "activity": 1.5, "task": 0.4, "ticket": 0.3,
}

const defaultRatio = 0.2

type gen struct {
	d     Deps
	app   *defs.App
	opts  Options
	r     *rand.Rand
	now   time.Time
	start time.Time
	reps  []person
	mgrs  []person
	ents  map[string]*spec.Entity
	made  map[string][]made // generated records per entity, in creation order
	seq   int
	// used holds the taken values of unique fields ("entity.field"), existing ones included
	used map[string]map[string]bool
}

type person struct {
	ID   uuid.UUID
	Team uuid.UUID
	Name string
}

// made is what later entities need to know of a generated record.
type made struct {
	ID      uuid.UUID
	Created time.Time
	Owner   uuid.UUID
	Team    uuid.UUID
	Values  map[string]any
	Label   string
}

// Seed generates demo data into the app with slug appSlug.
func Seed(ctx context.Context, d Deps, appSlug string, opts Options) (*Summary, error) {
	began := time.Now()
	app, err := d.Loader.App(ctx, appSlug)
	if err != nil {
		return nil, err
	}
	if opts.Count == 0 {
		opts.Count = 2000
	}
	if opts.Count < 1 || opts.Count > MaxCount {
		return nil, fmt.Errorf("%w: count must be between 1 and %d", ErrBadOptions, MaxCount)
	}
	if opts.Months <= 0 {
		opts.Months = 6
	}
	if opts.Months > 36 {
		return nil, fmt.Errorf("%w: at most 36 months of history", ErrBadOptions)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	g := &gen{d: d, app: app, opts: opts, r: rand.New(rand.NewPCG(opts.Seed, 0x7e55e7a)), now: opts.Now,
		start: opts.Now.AddDate(0, -opts.Months, 0), ents: map[string]*spec.Entity{}, made: map[string][]made{},
		used: map[string]map[string]bool{}}
	order, err := g.entities(ctx)
	if err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: app %s has no published entities", ErrBadOptions, appSlug)
	}
	if g.opts.Primary == "" {
		g.opts.Primary = order[0]
		if g.ents["lead"] != nil {
			g.opts.Primary = "lead"
		}
	}
	if g.ents[g.opts.Primary] == nil {
		return nil, fmt.Errorf("%w: the app has no entity %q", ErrBadOptions, g.opts.Primary)
	}
	sum := &Summary{App: app.Slug, Records: map[string]int{}}
	if sum.Teams, sum.People, err = g.people(ctx); err != nil {
		return nil, err
	}
	g.progress("people", 1, len(order)+1)
	for i, slug := range order {
		n := g.count(slug)
		if n == 0 {
			continue
		}
		if err := g.generate(ctx, slug, n); err != nil {
			return nil, err
		}
		sum.Records[slug] = n
		g.progress(slug, i+2, len(order)+1)
	}
	for _, tbl := range []string{"records", "record_events"} {
		if _, err := d.Pool.Exec(ctx, "ANALYZE "+tbl); err != nil {
			return nil, fmt.Errorf("demo: analysing %s: %w", tbl, err)
		}
	}
	sum.Duration = time.Since(began)
	return sum, nil
}

func (g *gen) progress(step string, done, total int) {
	if g.opts.Progress != nil {
		g.opts.Progress(step, done, total)
	}
}

// entities loads the published entities, ordered so that relation targets come first.
func (g *gen) entities(ctx context.Context) ([]string, error) {
	rows, err := g.d.Pool.Query(ctx, `SELECT slug FROM definitions WHERE app_id = $1 AND kind = $2 AND published_version IS NOT NULL ORDER BY created_at, slug`,
		g.app.ID, spec.KindEntity)
	if err != nil {
		return nil, fmt.Errorf("demo: listing entities: %w", err)
	}
	var slugs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		slugs = append(slugs, s)
	}
	rows.Close()
	for _, s := range slugs {
		ent, _, err := g.d.Loader.Entity(ctx, g.app.ID, s)
		if err != nil {
			return nil, fmt.Errorf("demo: loading entity %s: %w", s, err)
		}
		g.ents[s] = ent
	}
	// depth-first: targets before the entities that point at them
	var order []string
	state := map[string]int{}
	var visit func(s string)
	visit = func(s string) {
		if state[s] != 0 {
			return
		}
		state[s] = 1
		for _, f := range g.ents[s].Fields {
			if f.Type == spec.TypeRelation && g.ents[f.Target] != nil && f.Target != s {
				visit(f.Target)
			}
			for _, sf := range f.Fields { // relation columns of line items
				if sf.Type == spec.TypeRelation && g.ents[sf.Target] != nil && sf.Target != s {
					visit(sf.Target)
				}
			}
		}
		state[s] = 2
		order = append(order, s)
	}
	for _, s := range slugs {
		visit(s)
	}
	return order, nil
}

func (g *gen) count(slug string) int {
	if slug == g.opts.Primary {
		return g.opts.Count
	}
	r, ok := ratio[slug]
	if !ok {
		r = defaultRatio
	}
	if r <= 0 {
		return int(-r)
	}
	return max(1, int(math.Round(float64(g.opts.Count)*r)))
}

// people creates (or reuses, on a second run) three sales teams, each with a manager and six
// members, and gives them the app's roles: members the role that reads its own records, the
// managers one that reads their team's.
func (g *gen) people(ctx context.Context) (teams, people int, err error) {
	roles, err := g.d.Authz.ListRoles(ctx, g.app.Slug)
	if err != nil {
		return 0, 0, fmt.Errorf("demo: listing roles: %w", err)
	}
	repRole, mgrRole := pickRoles(roles)
	teamNames := []string{"华东销售部", "华北销售部", "华南销售部"}
	for t, tn := range teamNames {
		var team uuid.UUID
		name := fmt.Sprintf("%s（演示 %s）", tn, g.app.Slug)
		err := g.d.Pool.QueryRow(ctx, `SELECT id FROM teams WHERE name = $1`, name).Scan(&team)
		if err != nil {
			if err := g.d.Pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ($1) RETURNING id`, name).Scan(&team); err != nil {
				return 0, 0, fmt.Errorf("demo: creating team: %w", err)
			}
		}
		teams++
		for u := 0; u < 7; u++ {
			pn := personName(t*7 + u)
			email := fmt.Sprintf("demo-%s-%d-%d@example.com", g.app.Slug, t+1, u)
			var id uuid.UUID
			if err := g.d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ($1, $2, $3)
				ON CONFLICT (lower(email)) DO UPDATE SET team_id = EXCLUDED.team_id RETURNING id`, email, pn, team).Scan(&id); err != nil {
				return 0, 0, fmt.Errorf("demo: creating a person: %w", err)
			}
			people++
			p := person{ID: id, Team: team, Name: pn}
			role := repRole
			if u == 0 {
				role = mgrRole
				g.mgrs = append(g.mgrs, p)
				if _, err := g.d.Pool.Exec(ctx, `UPDATE teams SET manager_id = $1 WHERE id = $2`, id, team); err != nil {
					return 0, 0, fmt.Errorf("demo: naming the manager: %w", err)
				}
			} else {
				g.reps = append(g.reps, p)
			}
			if role != "" {
				if _, err := g.d.Authz.SetUserRoles(ctx, g.opts.Actor, id, []authz.UserRole{{App: g.app.Slug, Role: role}}); err != nil {
					return 0, 0, fmt.Errorf("demo: giving %s a role: %w", email, err)
				}
			}
		}
	}
	return teams, people, nil
}

// pickRoles chooses the members' and the managers' roles by name (rep/sales/member; manager/
// lead), falling back to the first role.
func pickRoles(roles []authz.RoleDef) (rep, mgr string) {
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	find := func(words ...string) string {
		for _, w := range words {
			for _, n := range names {
				if strings.Contains(n, w) {
					return n
				}
			}
		}
		return ""
	}
	rep = find("rep", "member", "sales", "user")
	mgr = find("manager", "lead", "director")
	if rep == "" && len(names) > 0 {
		rep = names[0]
	}
	if mgr == "" {
		mgr = rep
	}
	return rep, mgr
}

// batchSize is how many records one BulkInsert call writes.
const batchSize = 5000

func (g *gen) generate(ctx context.Context, slug string, n int) error {
	ent := g.ents[slug]
	if err := g.loadUsed(ctx, ent); err != nil {
		return err
	}
	for done := 0; done < n; {
		size := min(batchSize, n-done)
		rows := make([]records.InsertRow, size)
		infos := make([]made, size)
		for i := range rows {
			rows[i], infos[i] = g.row(ent, done+i)
		}
		// records are written in creation order so lists and cursors look natural
		ids, err := g.d.Records.BulkInsert(ctx, g.app, slug, rows)
		if err != nil {
			return fmt.Errorf("demo: writing %s: %w", slug, err)
		}
		for i := range ids {
			infos[i].ID = ids[i]
		}
		g.made[slug] = append(g.made[slug], infos...)
		done += size
	}
	sort.SliceStable(g.made[slug], func(i, j int) bool { return g.made[slug][i].Created.Before(g.made[slug][j].Created) })
	return nil
}

// row generates one record of ent: its relations first (they decide when it can have been
// created and who owns it), then its fields, then its stage history.
func (g *gen) row(ent *spec.Entity, i int) (records.InsertRow, made) {
	g.seq++
	vals := map[string]any{}
	var parent *made
	created := g.when(g.start, g.now)
	// relations: link to a record created earlier; the first linked record decides the owner
	for _, f := range ent.Fields {
		if f.Type != spec.TypeRelation || g.ents[f.Target] == nil || f.Target == ent.Slug {
			continue
		}
		if _, set := vals[f.Key]; set {
			continue
		}
		pool := g.made[f.Target]
		if len(pool) == 0 {
			continue
		}
		if !f.Required && g.r.Float64() < 0.1 {
			continue
		}
		m := &pool[g.r.IntN(len(pool))]
		vals[f.Key] = m.ID.String()
		if parent == nil {
			parent = m
		}
		// keep chains consistent: when the target links to another entity this one also
		// links to, take the target's link (a quote's account is its deal's account)
		for _, f2 := range ent.Fields {
			if f2.Type == spec.TypeRelation && f2.Key != f.Key {
				if v, ok := m.Values[f2.Key]; ok && g.ents[f.Target].Field(f2.Key) != nil && g.ents[f.Target].Field(f2.Key).Target == f2.Target {
					vals[f2.Key] = v
				}
			}
		}
	}
	owner := g.reps[g.r.IntN(len(g.reps))]
	if parent != nil {
		if !parent.Created.Before(g.now) {
			created = g.now
		} else {
			created = g.when(parent.Created, minTime(parent.Created.Add(21*24*time.Hour), g.now))
		}
		if p, ok := g.personOf(parent.Owner); ok {
			owner = p
		}
	}
	for _, f := range ent.Fields {
		if _, set := vals[f.Key]; set {
			continue
		}
		if ent.Stages != nil && f.Key == ent.Stages.Field {
			continue
		}
		if v := g.value(ent, &f, i, created, vals, parent); v != nil {
			if f.Unique {
				v = g.unique(ent, &f, v)
			}
			vals[f.Key] = v
		}
	}
	row := records.InsertRow{Values: vals, Owner: &owner.ID, Team: &owner.Team, CreatedAt: created}
	if ent.Stages != nil && ent.Stages.Field != "" && len(ent.Stages.Order) > 0 {
		row.Stages = g.stages(ent.Stages, created)
	}
	label := ""
	if t, ok := vals[ent.TitleField].(string); ok {
		label = t
	}
	return row, made{Created: created, Owner: owner.ID, Team: owner.Team, Values: vals, Label: label}
}

func (g *gen) personOf(id uuid.UUID) (person, bool) {
	for _, p := range g.reps {
		if p.ID == id {
			return p, true
		}
	}
	return person{}, false
}

// when picks an instant between a and b, weighted towards the recent end (a growing business).
func (g *gen) when(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	u := math.Sqrt(g.r.Float64())
	t := a.Add(time.Duration(float64(b.Sub(a)) * u))
	// office hours in China: 09:00–19:00 local
	h := 9 + g.r.IntN(10)
	loc := time.FixedZone("CST", 8*3600)
	l := t.In(loc)
	t = time.Date(l.Year(), l.Month(), l.Day(), h, g.r.IntN(60), g.r.IntN(60), 0, loc)
	if t.After(b) {
		return b
	}
	if t.Before(a) {
		return a
	}
	return t
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// stages walks a record through the stage order: most stop early, some reach the end, and
// the oldest open ones are lost. Each stay lasts a few days (longer in later stages), and no
// step lies in the future.
func (g *gen) stages(st *spec.Stages, created time.Time) []records.StageStep {
	// the first terminal stage is where a record succeeds ("won"); later ones are exits
	// from anywhere ("lost")
	terminal := map[string]bool{}
	for _, t := range st.Terminal {
		terminal[t] = true
	}
	var path, exits []string
	success := ""
	for _, s := range st.Order {
		switch {
		case has(strings.ToLower(s), "reject", "lost", "cancel", "fail", "disqualif", "declin"):
			exits = append(exits, s) // a way out, whatever its place in the order
		case !terminal[s]:
			path = append(path, s)
		case success == "":
			success = s
		default:
			exits = append(exits, s)
		}
	}
	if success != "" {
		path = append(path, success)
	}
	if len(path) == 0 {
		path = exits[:1]
		exits = nil
	}
	steps := []records.StageStep{{Stage: path[0], At: created}}
	// how far it goes: a funnel where each step keeps about 60–75%
	at := created
	for k := 1; k < len(path); k++ {
		if g.r.Float64() > 0.62+0.03*float64(k%4) {
			break
		}
		stay := time.Duration((12 + g.r.ExpFloat64()*36*float64(1+k/2)) * float64(time.Hour))
		next := at.Add(stay)
		if next.After(g.now) {
			break
		}
		at = next
		steps = append(steps, records.StageStep{Stage: path[k], At: at})
	}
	last := steps[len(steps)-1].Stage
	if len(exits) > 0 && !terminal[last] && g.now.Sub(at) > 21*24*time.Hour && g.r.Float64() < 0.55 {
		lost := at.Add(time.Duration((24 + g.r.ExpFloat64()*96) * float64(time.Hour)))
		if lost.Before(g.now) {
			steps = append(steps, records.StageStep{Stage: exits[0], At: lost})
		}
	}
	return steps
}

// loadUsed reads the values the entity's unique fields already hold (a second run, or records
// people entered), so generated values never collide with them.
func (g *gen) loadUsed(ctx context.Context, ent *spec.Entity) error {
	for _, f := range ent.Fields {
		if !f.Unique {
			continue
		}
		set := map[string]bool{}
		g.used[ent.Slug+"."+f.Key] = set
		rows, err := g.d.Pool.Query(ctx, `SELECT data->>$3 FROM records WHERE app_id = $1 AND entity = $2 AND deleted_at IS NULL AND data ? $3`,
			g.app.ID, ent.Slug, f.Key)
		if err != nil {
			return fmt.Errorf("demo: reading %s.%s: %w", ent.Slug, f.Key, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err == nil {
				set[strings.ToLower(v)] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("demo: reading %s.%s: %w", ent.Slug, f.Key, err)
		}
	}
	return nil
}

// unique makes v a value no other record of the field holds: a text gets a number, a phone
// or number another value.
func (g *gen) unique(ent *spec.Entity, f *spec.Field, v any) any {
	set := g.used[ent.Slug+"."+f.Key]
	if set == nil {
		return v
	}
	key := func(x any) string { return strings.ToLower(fmt.Sprint(x)) }
	cand := v
	for n := 2; set[key(cand)]; n++ {
		switch x := v.(type) {
		case string:
			switch f.Type {
			case spec.TypeEmail:
				at := strings.LastIndexByte(x, '@')
				cand = fmt.Sprintf("%s.%d%s", x[:at], n, x[at:])
			case spec.TypePhone:
				cand = fmt.Sprintf("+86139%08d", 10_000_000+g.r.IntN(90_000_000))
			default:
				cand = fmt.Sprintf("%s %d", x, n)
			}
		case float64:
			cand = x + float64(n)
		default:
			return v
		}
	}
	set[key(cand)] = true
	return cand
}
