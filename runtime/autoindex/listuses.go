package autoindex

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ListUses counts, in memory, the fields that list requests filter or sort by: a person who
// sorts a list by a column or filters it without saving a view. Flush adds the counts to the
// list_uses table (one statement for all); a pass wants an index for a field that lists used
// at least Options.MinListUses times and lately (within Options.UnusedFor), next to the fields
// of saved views and reports. Safe for concurrent use.
type ListUses struct {
	mu sync.Mutex
	m  map[Use]int64
}

// maxPending bounds the distinct fields held between flushes.
const maxPending = 10000

// NewListUses returns an empty counter.
func NewListUses() *ListUses { return &ListUses{m: map[Use]int64{}} }

// Note counts each field that one list request filters or sorts by, once. Call it for the
// first page of a list only (later pages of the same list are not new uses); fields that are
// not plain keys are ignored, unknown ones are skipped by the pass.
func (l *ListUses) Note(app uuid.UUID, entity string, filterJSON json.RawMessage, sortSpec string) {
	if l == nil || !slugRe.MatchString(entity) {
		return
	}
	var fields []string
	if len(filterJSON) > 0 {
		fields = FilterFields(filterJSON)
	}
	if sortSpec != "" {
		fields = append(fields, SortFields(strings.Split(sortSpec, ","))...)
	}
	if len(fields) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f] || !keyRe.MatchString(f) {
			continue
		}
		seen[f] = true
		u := Use{AppID: app, Entity: entity, Field: f}
		if _, ok := l.m[u]; !ok && len(l.m) >= maxPending {
			continue
		}
		l.m[u]++
	}
}

// Flush adds the counts noted since the last flush to list_uses, stamped now.
func (l *ListUses) Flush(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	l.mu.Lock()
	pending := l.m
	l.m = map[Use]int64{}
	l.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	apps := make([]uuid.UUID, 0, len(pending))
	ents := make([]string, 0, len(pending))
	fields := make([]string, 0, len(pending))
	counts := make([]int64, 0, len(pending))
	for u, n := range pending {
		apps, ents, fields, counts = append(apps, u.AppID), append(ents, u.Entity), append(fields, u.Field), append(counts, n)
	}
	// apps deleted meanwhile are left out (the join), not an error
	_, err := pool.Exec(ctx, `INSERT INTO list_uses (app_id, entity, field, uses, last_used)
		SELECT u.app_id, u.entity, u.field, u.uses, $5 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) u(app_id, entity, field, uses)
		JOIN apps a ON a.id = u.app_id
		ON CONFLICT (app_id, entity, field) DO UPDATE SET uses = list_uses.uses + EXCLUDED.uses, last_used = EXCLUDED.last_used`+bgMark,
		apps, ents, fields, counts, now)
	if err != nil {
		return fmt.Errorf("autoindex: recording list uses: %w", err)
	}
	return nil
}

// Run flushes every interval until ctx ends, and once more then.
func (l *ListUses) Run(ctx context.Context, pool *pgxpool.Pool, interval time.Duration, log func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := l.Flush(c, pool, time.Now()); err != nil && log != nil {
				log(err)
			}
			cancel()
			return
		case <-t.C:
			if err := l.Flush(ctx, pool, time.Now()); err != nil && log != nil && ctx.Err() == nil {
				log(err)
			}
		}
	}
}
