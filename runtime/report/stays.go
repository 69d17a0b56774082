package report

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

// Stage stays (migrations/00061_stage_stays.sql) hold one row per finished stay per
// report_index field of an entity with stages, in an index ordered by field value, stage and
// length of stay. A dwell report by one such field reads that index instead of unnesting the
// stage paths of every record: count, average, median and maximum per heatmap cell come out
// of one ordered scan, without the sort a median otherwise needs. Both paths give the same
// answer (see TestDwellFromStays); the stays path is taken only when it can: see dwellFromStays.

// StayFields are the fields of ent whose values the stage stays carry: the report_index
// fields that hold one plain text value (text, select, relation...), except the stage field
// itself. Entities without stages have none.
func StayFields(ent *spec.Entity) []string {
	if ent == nil || ent.Stages == nil || ent.Stages.Field == "" {
		return nil
	}
	var out []string
	for _, k := range ent.ReportIndex {
		f := ent.Field(k)
		if f == nil || k == ent.Stages.Field || slices.Contains(out, k) {
			continue
		}
		if f.Type == spec.TypeUser || f.Type == spec.TypeTeam || filter.FieldKind(f) != filter.KindText {
			continue
		}
		if _, ok := filter.Resolve(k, ent, nil, ""); !ok {
			continue
		}
		out = append(out, k)
	}
	return out
}

// ProvisionStays makes, inside the publish transaction and after the stage paths (see
// records.ProvisionStagePaths), the stage stays of ent's records carry StayFields(ent): they
// are rebuilt when the fields or the stage field changed or the stage paths were rebuilt
// since, and dropped when the entity no longer asks for them. It answers the rows written.
func ProvisionStays(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity) (int64, error) {
	if app == nil || ent == nil {
		return 0, fmt.Errorf("provisioning stage stays: no app or entity")
	}
	want, stageField := StayFields(ent), ""
	if len(want) > 0 {
		stageField = ent.Stages.Field
	}
	var (
		have  []string
		stale bool
	)
	err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(s.field), '{}'),
			coalesce(bool_or(s.stage_field <> $3 OR t.built_at IS NULL OR t.built_at > s.built_at), false)
		FROM stage_stay_sets s LEFT JOIN stage_tracking t ON t.app_id = s.app_id AND t.entity = s.entity
		WHERE s.app_id = $1 AND s.entity = $2`, app.ID, ent.Slug, stageField).Scan(&have, &stale)
	if err != nil {
		return 0, fmt.Errorf("provisioning stage stays: reading sets: %w", err)
	}
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	slices.Sort(have)
	if !stale && slices.Equal(have, sorted) {
		return 0, nil
	}
	if want == nil {
		want = []string{}
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT tessera_build_stays($1, $2, $3, $4)`, app.ID, ent.Slug, stageField, want).Scan(&n); err != nil {
		return 0, fmt.Errorf("provisioning stage stays: building: %w", err)
	}
	return n, nil
}

// builtStays answers the stay sets (field -> set id) built for the entity's current stage
// field (none when the stays follow another field or were never built).
func builtStays(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, app uuid.UUID, ent *spec.Entity) (map[string]int32, error) {
	if ent.Stages == nil || ent.Stages.Field == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT field, id FROM stage_stay_sets WHERE app_id = $1 AND entity = $2 AND stage_field = $3`,
		app, ent.Slug, ent.Stages.Field)
	if err != nil {
		return nil, fmt.Errorf("reading stage stay sets: %w", err)
	}
	defer rows.Close()
	sets := map[string]int32{}
	for rows.Next() {
		var f string
		var id int32
		if err := rows.Scan(&f, &id); err != nil {
			return nil, fmt.Errorf("reading stage stay sets: %w", err)
		}
		sets[f] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading stage stay sets: %w", err)
	}
	return sets, nil
}

// dwellFromStays answers the aggregate of a dwell report (columns d0, stage, stays,
// avg_hours, median_hours, max_hours) read from the stage stays, or "" when the report needs
// what the stays do not hold or a narrower row scope: open stays, stuck lists, filters, a date range on another
// field than created_at, more or other dimensions than one plain text field the stays carry.
// It must run before b.where, whose arguments it does not use.
func (b *builder) dwellFromStays(s *stageSetup, dims []*dim) string {
	// A caller who sees only their own or their team's records reads their few stage paths
	// through the owner and team indexes faster than the stays of the whole entity.
	if b.g.Scope != access.ScopeAll {
		return ""
	}
	if !s.tracked || b.kp.IncludeOpen || b.kp.Stuck != 0 || len(dims) != 1 || len(b.p.stays) == 0 {
		return ""
	}
	d := dims[0]
	set, ok := b.p.stays[d.field]
	if !ok || d.kind != vText || d.uuid || d.bucket != "" || d.nameTable != "" || d.name != "" {
		return ""
	}
	if f := b.ent.Field(d.field); f == nil || d.expr != "(r.data->>"+lit(f.Key)+")" {
		return ""
	}
	if !emptyFilter(b.rep.Filters) || !emptyFilter(b.p.Filter) {
		return ""
	}
	if (b.p.From != nil || b.p.To != nil) && b.kp.DateField != "" && b.kp.DateField != "created_at" {
		return ""
	}
	where := []string{"s.set_id = " + b.arg(set), "s.stage = ANY(" + b.stageOrder(s) + ")"}
	if b.p.From != nil {
		where = append(where, "s.created_at >= "+b.arg(*b.p.From)+"::timestamptz")
	}
	if b.p.To != nil {
		where = append(where, "s.created_at < "+b.arg(*b.p.To)+"::timestamptz")
	}
	return "SELECT s.value AS d0, s.stage AS stage, count(*) AS stays," +
		" round(avg(s.hours)::numeric, 2)::float8 AS avg_hours," +
		" round((percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours))::numeric, 2)::float8 AS median_hours," +
		" round(max(s.hours)::numeric, 2)::float8 AS max_hours" +
		"\nFROM stage_stays s\nWHERE " + strings.Join(where, "\n  AND ") + "\nGROUP BY 1, 2"
}

// emptyFilter reports whether a filter JSON selects every record.
func emptyFilter(raw []byte) bool {
	switch strings.TrimSpace(string(raw)) {
	case "", "null", "{}", "[]":
		return true
	}
	return false
}
