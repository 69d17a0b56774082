package records

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

var (
	slugRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	keyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
)

// indexPrefix is the name prefix of every index of one entity: rx_<12 hex of app+entity>_.
func indexPrefix(appID uuid.UUID, entity string) string {
	h := sha256.Sum256([]byte(appID.String() + "|" + entity))
	return "rx_" + hex.EncodeToString(h[:6]) + "_"
}

// IndexName is the deterministic name of the expression index of field f: it changes when the
// field's key, comparison kind or uniqueness changes, so a publish creates a fresh index.
func IndexName(appID uuid.UUID, entity string, f *spec.Field) string {
	_, kind := filter.FieldExpr("", f)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%t", f.Key, kind, f.Unique)))
	return indexPrefix(appID, entity) + hex.EncodeToString(h[:6])
}

// ProvisionIndexes creates the expression indexes (unique ones for unique fields) that the
// entity's unique and indexed fields (and report_index) ask for, on the live records of this
// app and entity, and drops this entity's indexes that are no longer wanted. It is idempotent
// and runs inside the publishing transaction: when existing records violate a new unique
// field, it fails and the publish rolls back.
func ProvisionIndexes(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity) error {
	if app == nil || ent == nil {
		return fmt.Errorf("provisioning indexes: no app or entity")
	}
	if !slugRe.MatchString(ent.Slug) {
		return fmt.Errorf("provisioning indexes: invalid entity slug %q", ent.Slug)
	}
	reportIdx := map[string]bool{}
	for _, k := range ent.ReportIndex {
		reportIdx[k] = true
	}
	if ent.Dedupe != nil { // dedupe look-ups use the same indexes
		for _, key := range ent.Dedupe.Keys {
			reportIdx = mergeKeys(reportIdx, key)
		}
	}
	want := map[string]bool{}
	analyze := false
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if !f.Unique && !f.Indexed && !reportIdx[f.Key] {
			continue
		}
		if !keyRe.MatchString(f.Key) {
			return fmt.Errorf("provisioning indexes: invalid field key %q", f.Key)
		}
		expr, kind := filter.FieldExpr("", f)
		name := IndexName(app.ID, ent.Slug, f)
		want[name] = true
		method := ""
		if kind == filter.KindArray || kind == filter.KindFiles {
			if f.Unique {
				return fmt.Errorf("provisioning indexes: list field %q cannot be unique", f.Key)
			}
			method = " USING gin"
		}
		unique := ""
		if f.Unique {
			unique = "UNIQUE "
		}
		// Only validated identifiers reach this statement: the app id is a UUID, the slug and
		// key match strict patterns, and both are quoted as literals.
		sql := fmt.Sprintf(`CREATE %sINDEX IF NOT EXISTS %s ON records%s ((%s)) WHERE app_id = '%s' AND entity = %s AND deleted_at IS NULL`,
			unique, name, method, expr, app.ID.String(), quoteLit(ent.Slug))
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("creating index for %s.%s: %w", ent.Slug, f.Key, err)
		}
		if method != "" {
			continue
		}
		// The planner ignores a partial index's statistics: without statistics on the expression
		// it guesses an equality's selectivity (0.5%) and may walk the created_at order instead
		// of this index (see runtime/autoindex, where that cost a 1M-record page 497 ms).
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxname = $1)`, name+"_st").Scan(&exists); err != nil {
			return fmt.Errorf("statistics for %s.%s: %w", ent.Slug, f.Key, err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE STATISTICS %s_st ON (%s) FROM records`, name, expr)); err != nil {
				return fmt.Errorf("statistics for %s.%s: %w", ent.Slug, f.Key, err)
			}
			analyze = true
		}
	}
	if analyze {
		if _, err := tx.Exec(ctx, `ANALYZE records`); err != nil {
			return fmt.Errorf("analyzing records: %w", err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'records' AND indexname LIKE $1`, indexPrefix(app.ID, ent.Slug)+"%")
	if err != nil {
		return fmt.Errorf("listing indexes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("listing indexes: %w", err)
	}
	for _, n := range names {
		if !want[n] && strings.HasPrefix(n, indexPrefix(app.ID, ent.Slug)) && regexp.MustCompile(`^rx_[0-9a-f]{12}_[0-9a-f]{12}$`).MatchString(n) {
			if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+n); err != nil {
				return fmt.Errorf("dropping index %s: %w", n, err)
			}
			if _, err := tx.Exec(ctx, `DROP STATISTICS IF EXISTS `+n+`_st`); err != nil {
				return fmt.Errorf("dropping statistics %s_st: %w", n, err)
			}
		}
	}
	return nil
}

func mergeKeys(m map[string]bool, keys []string) map[string]bool {
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// ProvisionStagePaths makes the stage paths (records.stage_path and stage_in, see
// migrations/00060_stage_paths.sql) of ent's records follow its stage field: when the entity
// has stages and its paths were never built or followed another field, they are rebuilt from
// the stage history inside the publishing transaction. It answers the records rebuilt.
func ProvisionStagePaths(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity) (int64, error) {
	if app == nil || ent == nil {
		return 0, fmt.Errorf("provisioning stage paths: no app or entity")
	}
	if ent.Stages == nil || ent.Stages.Field == "" {
		if _, err := tx.Exec(ctx, `DELETE FROM stage_tracking WHERE app_id = $1 AND entity = $2`, app.ID, ent.Slug); err != nil {
			return 0, fmt.Errorf("provisioning stage paths: %w", err)
		}
		return 0, nil
	}
	var field string
	err := tx.QueryRow(ctx, `SELECT field FROM stage_tracking WHERE app_id = $1 AND entity = $2`, app.ID, ent.Slug).Scan(&field)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("provisioning stage paths: reading tracking: %w", err)
	}
	if field == ent.Stages.Field {
		return 0, nil
	}
	// The stage stays of the records (migrations/00061_stage_stays.sql) are rebuilt in bulk
	// after the paths (report.ProvisionStays), not row by row by their trigger.
	if _, err := tx.Exec(ctx, `SELECT set_config('tessera.skip_stays', 'on', true)`); err != nil {
		return 0, fmt.Errorf("provisioning stage paths: %w", err)
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT tessera_build_stage_paths($1, $2, $3)`, app.ID, ent.Slug, ent.Stages.Field).Scan(&n); err != nil {
		return 0, fmt.Errorf("provisioning stage paths: building: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('tessera.skip_stays', 'off', true)`); err != nil {
		return 0, fmt.Errorf("provisioning stage paths: %w", err)
	}
	return n, nil
}
