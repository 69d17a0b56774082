// Package authz decides who may do what: a Casbin RBAC-with-domains enforcer (a domain is an
// app id, plus "platform"), its GORM adapter and cross-replica sync, and the translation of
// roles into an access.Grant (row scope, team ids, hidden and read-only fields).
//
// Policy rows in casbin_rule:
//
//	p,  <role>, <app id>|*|platform, <resource>, <action>, <scope>   permission
//	p2, <role>, <app id>, <entity slug>, hidden|readonly, <field>    field rule
//	p3, <role>, <app id>                                             role declaration
//	g,  <user id>, <role>, <app id>                                  role assignment
//
// Resources are "entity:<slug>", "form:<slug>", "flow:<slug>", "report:<slug>",
// "dashboard:<slug>" and "app" (settings and definitions), "*" or "<kind>:*" as wildcards;
// actions are read, create, update, delete, export, run, publish, manage or "*"; scopes are
// own, team, team_tree and all. Domain "*" holds the built-in roles builder and member.
//
// Every change runs in one transaction with its audit_log row and a bump of the policy version
// (kv_settings "authz.policy_version"), and sends a NOTIFY at commit. Every replica reloads on
// the notification and also polls the version every second, so a missed notification still
// propagates within about a second.
package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/tessera/tessera/runtime/access"
)

// Built-in role names and the platform domain.
const (
	RoleAdmin      = "admin"   // platform domain; users.is_admin is the source of truth
	RoleBuilder    = "builder" // per app: every definition, publish, every record
	RoleMember     = "member"  // per app: read and create own records
	PlatformDomain = "platform"
	anyDomain      = "*"
)

// Actions and scopes known to the policy.
var (
	Actions = []string{"read", "create", "update", "delete", "export", "run", "publish", "manage"}
	Scopes  = []string{access.ScopeOwn, access.ScopeTeam, access.ScopeTeamTree, access.ScopeAll}
	// ResourceKinds are the prefixes of "<kind>:<slug>" resources.
	ResourceKinds = []string{"entity", "form", "flow", "report", "dashboard"}
)

// NotifyChannel is the PostgreSQL channel policy changes are announced on.
const NotifyChannel = "tessera_authz"

const versionKey = "authz.policy_version"

// modelText is the Casbin model. Scope is not part of the matcher: Grant picks the widest scope
// among the matching rules; Can answers the yes/no question with Enforce.
const modelText = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, scope
p2 = sub, dom, ent, kind, field
p3 = sub, dom

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == r.dom || p.dom == "*") && (p.obj == "*" || keyMatch(r.obj, p.obj)) && (p.act == "*" || r.act == p.act)
`

// Options tune the sync machinery (tests shorten or disable parts of it).
type Options struct {
	// PollInterval is how often the policy version is polled (default 1s).
	PollInterval time.Duration
	// NoListen disables the LISTEN connection (the poll alone then propagates changes).
	NoListen bool
}

// Authorizer answers permission questions for one replica and manages roles.
type Authorizer struct {
	pool    *pgxpool.Pool
	gdb     *gorm.DB
	log     *slog.Logger
	opts    Options
	adapter *Adapter
	enf     *casbin.SyncedEnforcer

	reloadMu sync.Mutex
	version  atomic.Int64 // policy version of the loaded policy
	snap     atomic.Pointer[snapshot]

	teamMu    sync.RWMutex
	teamCache map[uuid.UUID]teamEntry

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

type teamEntry struct {
	version  int64
	own      []uuid.UUID // the user's own team (0 or 1)
	tree     []uuid.UUID // own team + every team under the teams the user manages
	loadedAt time.Time
}

// New loads the policy and starts the watcher (LISTEN/NOTIFY plus a version poll).
func New(ctx context.Context, pool *pgxpool.Pool, gdb *gorm.DB, log *slog.Logger) (*Authorizer, error) {
	return NewWithOptions(ctx, pool, gdb, log, Options{})
}

// NewWithOptions is New with tuning options.
func NewWithOptions(ctx context.Context, pool *pgxpool.Pool, gdb *gorm.DB, log *slog.Logger, opts Options) (*Authorizer, error) {
	if log == nil {
		log = slog.Default()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: parsing model: %w", err)
	}
	ad := NewAdapter(gdb)
	enf, err := casbin.NewSyncedEnforcer(m, ad)
	if err != nil {
		return nil, fmt.Errorf("authz: creating enforcer: %w", err)
	}
	enf.EnableAutoSave(false) // every change goes through Tx, which writes the rows itself
	a := &Authorizer{pool: pool, gdb: gdb, log: log, opts: opts, adapter: ad, enf: enf, teamCache: map[uuid.UUID]teamEntry{}}
	if err := a.reload(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(1)
	go a.pollLoop(runCtx)
	if !opts.NoListen {
		a.wg.Add(1)
		go a.listenLoop(runCtx)
	}
	return a, nil
}

// Close stops the watcher. It is safe to call more than once.
func (a *Authorizer) Close() {
	if a == nil || !a.closed.CompareAndSwap(false, true) {
		return
	}
	a.cancel()
	a.wg.Wait()
}

// Version returns the policy version this replica has loaded.
func (a *Authorizer) Version() int64 { return a.version.Load() }

// Enforcer exposes the underlying Casbin enforcer (read-only use: its policy is reloaded from
// the database on every change).
func (a *Authorizer) Enforcer() *casbin.SyncedEnforcer { return a.enf }

// readVersion reads the stored policy version.
func (a *Authorizer) readVersion(ctx context.Context) (int64, error) {
	var raw string
	err := a.pool.QueryRow(ctx, `SELECT value::text /* tessera:background */ FROM kv_settings WHERE key = $1`, versionKey).Scan(&raw)
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return 0, nil
		}
		return 0, fmt.Errorf("authz: reading policy version: %w", err)
	}
	v, err := strconv.ParseInt(strings.Trim(raw, `"`), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("authz: policy version %q: %w", raw, err)
	}
	return v, nil
}

// reload reads the version, then the policy, so a change committed in between is caught by the
// next poll. Reloads are serialised.
func (a *Authorizer) reload(ctx context.Context) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	v, err := a.readVersion(ctx)
	if err != nil {
		return err
	}
	if err := a.enf.LoadPolicy(); err != nil {
		return fmt.Errorf("authz: loading policy: %w", err)
	}
	snap, err := a.buildSnapshot()
	if err != nil {
		return err
	}
	a.snap.Store(snap)
	a.version.Store(v)
	a.teamMu.Lock()
	clear(a.teamCache)
	a.teamMu.Unlock()
	return nil
}

// Refresh reloads the policy now (after changes made outside Tx, e.g. by seed SQL in tests).
func (a *Authorizer) Refresh(ctx context.Context) error { return a.reload(ctx) }

func (a *Authorizer) pollLoop(ctx context.Context) {
	defer a.wg.Done()
	t := time.NewTicker(a.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		v, err := a.readVersion(qctx)
		if err == nil && v != a.version.Load() {
			err = a.reload(qctx)
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			a.log.Warn("authz: policy poll failed", "err", err)
		}
	}
}

// listenLoop holds a dedicated connection (not from the pool) listening on NotifyChannel and
// reconnects with backoff when it drops.
func (a *Authorizer) listenLoop(ctx context.Context) {
	defer a.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := a.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("authz: policy listener dropped; the poll covers the gap", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (a *Authorizer) listenOnce(ctx context.Context) error {
	conn, err := pgxConnect(ctx, a.pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	// A change may have committed while we were not listening.
	if v, err := a.readVersion(ctx); err == nil && v != a.version.Load() {
		_ = a.reload(ctx)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		v, perr := strconv.ParseInt(n.Payload, 10, 64)
		if perr == nil && v == a.version.Load() {
			continue // our own change, already loaded
		}
		if err := a.reload(ctx); err != nil {
			a.log.Warn("authz: reload after notification failed", "err", err)
		}
	}
}

// ---- decisions ----

var scopeRank = map[string]int{access.ScopeNone: 0, access.ScopeOwn: 1, access.ScopeTeam: 2, access.ScopeTeamTree: 3, access.ScopeAll: 4}

// userRoles returns the user's roles (direct and inherited) in the app.
func (a *Authorizer) userRoles(sub access.Subject, dom string) ([]string, error) {
	roles, err := a.enf.GetImplicitRolesForUser(sub.UserID.String(), dom)
	if err != nil {
		return nil, fmt.Errorf("authz: roles of %s: %w", sub.UserID, err)
	}
	return roles, nil
}

// resourceMatches reports whether a policy object matches the requested resource.
func resourceMatches(req, pol string) bool {
	return pol == "*" || req == pol || util.KeyMatch(req, pol)
}

// Can reports whether sub may do action on resource in app at all (any scope). It runs the
// Casbin matcher; Grant gives the same answer in Allowed() plus the scope and field rules.
func (a *Authorizer) Can(_ context.Context, sub access.Subject, appID uuid.UUID, resource, action string) (bool, error) {
	if sub.IsAdmin || sub.System {
		return true, nil
	}
	if resource == "app" && action == "read" {
		roles, err := a.userRoles(sub, appID.String())
		return len(roles) > 0, err
	}
	ok, err := a.enf.Enforce(sub.UserID.String(), appID.String(), resource, action)
	if err != nil {
		return false, fmt.Errorf("authz: enforcing %s %s: %w", action, resource, err)
	}
	return ok, nil
}

// Grant returns the caller's access to resource for action in app: the widest scope across the
// caller's roles, the visible team ids for team scopes and the merged field rules.
//
// Field rules come from the roles that grant the action with that widest scope (a role that
// reaches fewer rows cannot unhide a field on rows only a wider role reaches); among those the
// most permissive wins: a field is hidden only when every one of them hides it, and read-only
// only when every one of them makes it read-only or hides it and it is not hidden. Hidden fields are never in
// ReadOnly: the data layer treats them as unknown (no read, no write, no filter, no sort).
// Any role in an app allows reading resource "app" (seeing the app). Platform admins and system
// subjects get access.All().
func (a *Authorizer) Grant(ctx context.Context, sub access.Subject, appID uuid.UUID, resource, action string) (access.Grant, error) {
	if sub.IsAdmin || sub.System {
		return access.All(), nil
	}
	none := access.Grant{Scope: access.ScopeNone, Owner: sub.UserID}
	if sub.UserID == uuid.Nil {
		return none, nil
	}
	dom := appID.String()
	roles, err := a.userRoles(sub, dom)
	if err != nil {
		return none, err
	}
	if len(roles) == 0 {
		return none, nil
	}
	best := access.ScopeNone
	if resource == "app" && action == "read" {
		best = access.ScopeAll // any role in an app lets its holder see the app itself
	}
	type roleScope struct {
		role  string
		scope string
	}
	var granted []roleScope
	snap := a.snap.Load()
	for _, role := range roles {
		roleBest := access.ScopeNone
		for _, d := range [2]string{dom, anyDomain} {
			for _, r := range snap.perms[roleDom{role, d}] {
				if !resourceMatches(resource, r.obj) || (r.act != "*" && r.act != action) {
					continue
				}
				if scopeRank[r.scope] > scopeRank[roleBest] {
					roleBest = r.scope
				}
			}
		}
		if roleBest != access.ScopeNone {
			granted = append(granted, roleScope{role, roleBest})
			if scopeRank[roleBest] > scopeRank[best] {
				best = roleBest
			}
		}
	}
	// Only the roles that grant the widest scope decide the field rules: the scope and the
	// field rules apply to the same rows, so a narrower role that shows a field (a rep's own
	// deals) must not reveal it on the rows only a wider role reaches (an auditor who sees
	// every deal with the margin hidden).
	var granting []string
	for _, g := range granted {
		if g.scope == best {
			granting = append(granting, g.role)
		}
	}
	if best == access.ScopeNone {
		return none, nil
	}
	g := access.Grant{Scope: best, Owner: sub.UserID}
	if best == access.ScopeTeam || best == access.ScopeTeamTree {
		own, tree, err := a.teams(ctx, sub.UserID)
		if err != nil {
			return none, err
		}
		if best == access.ScopeTeam {
			g.Teams = own
		} else {
			g.Teams = tree
		}
	}
	if entity, ok := strings.CutPrefix(resource, "entity:"); ok {
		g.Hidden, g.ReadOnly = snap.mergeFields(dom, entity, granting)
	}
	return g, nil
}

// snapshot indexes the loaded policy by role and domain for Grant; it is rebuilt on every
// reload and swapped atomically.
type snapshot struct {
	perms  map[roleDom][]permRule
	fields map[roleDom]map[string]fieldSets // entity -> field rules
}

type roleDom struct{ role, dom string }

type permRule struct{ obj, act, scope string }

type fieldSets struct{ hidden, readOnly map[string]bool }

func (a *Authorizer) buildSnapshot() (*snapshot, error) {
	s := &snapshot{perms: map[roleDom][]permRule{}, fields: map[roleDom]map[string]fieldSets{}}
	rules, err := a.enf.GetPolicy()
	if err != nil {
		return nil, fmt.Errorf("authz: indexing policy: %w", err)
	}
	for _, r := range rules {
		if len(r) < 5 {
			continue
		}
		k := roleDom{r[0], r[1]}
		s.perms[k] = append(s.perms[k], permRule{obj: r[2], act: r[3], scope: r[4]})
	}
	frules, err := a.enf.GetNamedPolicy("p2")
	if err != nil {
		return nil, fmt.Errorf("authz: indexing field rules: %w", err)
	}
	for _, r := range frules {
		if len(r) < 5 {
			continue
		}
		k := roleDom{r[0], r[1]}
		if s.fields[k] == nil {
			s.fields[k] = map[string]fieldSets{}
		}
		fs, ok := s.fields[k][r[2]]
		if !ok {
			fs = fieldSets{hidden: map[string]bool{}, readOnly: map[string]bool{}}
			s.fields[k][r[2]] = fs
		}
		switch r[3] {
		case "hidden":
			fs.hidden[r[4]] = true
			fs.readOnly[r[4]] = true // a hidden field is read-only for that role too
		case "readonly":
			fs.readOnly[r[4]] = true
		}
	}
	return s, nil
}

// mergeFields intersects the field rules of the granting roles (most permissive wins).
func (s *snapshot) mergeFields(dom, entity string, roles []string) (hidden, readOnly map[string]bool) {
	for i, role := range roles {
		fs := s.fields[roleDom{role, dom}][entity]
		if i == 0 {
			hidden, readOnly = maps.Clone(fs.hidden), maps.Clone(fs.readOnly)
			continue
		}
		maps.DeleteFunc(hidden, func(f string, _ bool) bool { return !fs.hidden[f] })
		maps.DeleteFunc(readOnly, func(f string, _ bool) bool { return !fs.readOnly[f] })
	}
	// A hidden field is not writable either, but it is reported as hidden only: writes to it
	// fail like writes to an unknown field, so its existence is not revealed.
	maps.DeleteFunc(readOnly, func(f string, _ bool) bool { return hidden[f] })
	if len(hidden) == 0 {
		hidden = nil
	}
	if len(readOnly) == 0 {
		readOnly = nil
	}
	return hidden, readOnly
}

// teamCacheTTL bounds how long a cached team list is used even when no version change arrives
// (team changes made outside Tx).
const teamCacheTTL = 5 * time.Second

// teams returns the user's own team and the team_tree set: the own team plus every team in the
// subtrees of the teams the user manages (recursive over teams.parent_id; UNION stops cycles).
func (a *Authorizer) teams(ctx context.Context, user uuid.UUID) (own, tree []uuid.UUID, err error) {
	v := a.version.Load()
	a.teamMu.RLock()
	e, ok := a.teamCache[user]
	a.teamMu.RUnlock()
	if ok && e.version == v && time.Since(e.loadedAt) < teamCacheTTL {
		return e.own, e.tree, nil
	}
	rows, err := a.pool.Query(ctx, `
		WITH RECURSIVE managed AS (
			SELECT id FROM teams WHERE manager_id = $1
			UNION
			SELECT t.id FROM teams t JOIN managed m ON t.parent_id = m.id
		)
		SELECT team_id, true FROM users WHERE id = $1 AND team_id IS NOT NULL
		UNION ALL
		SELECT id, false FROM managed`, user)
	if err != nil {
		return nil, nil, fmt.Errorf("authz: teams of %s: %w", user, err)
	}
	defer rows.Close()
	seen := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		var isOwn bool
		if err := rows.Scan(&id, &isOwn); err != nil {
			return nil, nil, fmt.Errorf("authz: teams of %s: %w", user, err)
		}
		if isOwn {
			own = append(own, id)
		}
		if !seen[id] {
			seen[id] = true
			tree = append(tree, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("authz: teams of %s: %w", user, err)
	}
	a.teamMu.Lock()
	if len(a.teamCache) > 100000 {
		clear(a.teamCache)
	}
	a.teamCache[user] = teamEntry{version: v, own: own, tree: tree, loadedAt: time.Now()}
	a.teamMu.Unlock()
	return own, tree, nil
}

// ---- changes ----

// Tx runs fn in one database transaction together with a bump of the policy version and a
// NOTIFY (delivered at commit), then reloads this replica's policy. Every policy, user or team
// change goes through it, so all replicas drop cached decisions. Changes are serialised by an
// advisory lock.
func (a *Authorizer) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := a.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(7355609)`).Error; err != nil {
			return fmt.Errorf("authz: locking policy: %w", err)
		}
		if err := fn(tx); err != nil {
			return err
		}
		var v int64
		if err := tx.Raw(`INSERT INTO kv_settings (key, value) VALUES (?, '1')
			ON CONFLICT (key) DO UPDATE SET value = to_jsonb((kv_settings.value #>> '{}')::bigint + 1)
			RETURNING (value #>> '{}')::bigint`, versionKey).Scan(&v).Error; err != nil {
			return fmt.Errorf("authz: bumping policy version: %w", err)
		}
		if err := tx.Exec(`SELECT pg_notify(?, ?)`, NotifyChannel, strconv.FormatInt(v, 10)).Error; err != nil {
			return fmt.Errorf("authz: notifying: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.reload(ctx); err != nil {
		return fmt.Errorf("authz: reloading after change: %w", err)
	}
	return nil
}

// Audit writes one audit_log row on tx. before and after are stored as JSON (nil -> NULL).
func Audit(tx *gorm.DB, actor uuid.UUID, action, target string, before, after any) error {
	var actorArg any
	if actor != uuid.Nil {
		actorArg = actor
	}
	b, err := jsonArg(before)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	af, err := jsonArg(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if err := tx.Exec(`INSERT INTO audit_log (actor, action, target, before, after) VALUES (?, ?, ?, ?::jsonb, ?::jsonb)`,
		actorArg, action, target, b, af).Error; err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// errUnknown marks a missing app, user or role (callers map it to 404/422).
var errUnknown = errors.New("not found")

// IsNotFound reports whether err says an app, role or user does not exist.
func IsNotFound(err error) bool { return errors.Is(err, errUnknown) }
