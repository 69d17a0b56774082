package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/filter"
)

var (
	slugPattern  = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	indexPattern = regexp.MustCompile(`^rpt_[0-9a-f]{12}_[0-9a-f]{12}$`)
)

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// reportIndexPrefix is the name prefix of every report index of one app's entity.
func reportIndexPrefix(app *defs.App, entity string) string {
	return "rpt_" + shortHash(app.ID.String() + "/" + entity)[:12] + "_"
}

// ProvisionReportIndexes creates, inside the publish transaction, the indexes reports over ent
// need when the entity asks for them (ent.ReportIndex non-empty), and drops the report indexes
// it no longer needs. Field expression indexes for ReportIndex fields are created by
// runtime/records with the rest of the entity's indexes; this adds the history side:
//
//   - a partial index on the entity's stage events, ordered by record and time, which the
//     funnel, dwell, stagnation and penetration queries use to read one record's stage history
//     (row-scoped reports) and to feed the window functions in order.
//
// Only validated identifiers reach the DDL: the app id is a UUID, the slug and field keys match
// strict patterns, and they are written as quoted literals.
func ProvisionReportIndexes(ctx context.Context, tx pgx.Tx, app *defs.App, ent *spec.Entity) error {
	if app == nil || ent == nil {
		return fmt.Errorf("provisioning report indexes: no app or entity")
	}
	if !slugPattern.MatchString(ent.Slug) {
		return fmt.Errorf("provisioning report indexes: invalid entity slug %q", ent.Slug)
	}
	prefix := reportIndexPrefix(app, ent.Slug)
	want := map[string]string{}
	if len(ent.ReportIndex) > 0 && ent.Stages != nil && ent.Stages.Field != "" {
		f := ent.Field(ent.Stages.Field)
		if f == nil {
			return fmt.Errorf("provisioning report indexes: stage field %q is not a field", ent.Stages.Field)
		}
		if _, ok := filter.Resolve(f.Key, ent, nil, ""); !ok {
			return fmt.Errorf("provisioning report indexes: invalid field key %q", f.Key)
		}
		name := prefix + shortHash("stage-events/" + f.Key)[:12]
		want[name] = fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON record_events (record_id, at, id) WHERE app_id = '%s' AND entity = %s AND kind = 'stage'`,
			name, app.ID.String(), lit(ent.Slug))
	}
	for name, ddl := range want {
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("creating report index %s: %w", name, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename IN ('records', 'record_events') AND indexname LIKE $1`, prefix+"%")
	if err != nil {
		return fmt.Errorf("listing report indexes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("listing report indexes: %w", err)
	}
	for _, n := range names {
		if _, ok := want[n]; !ok && strings.HasPrefix(n, prefix) && indexPattern.MatchString(n) {
			if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+n); err != nil {
				return fmt.Errorf("dropping report index %s: %w", n, err)
			}
		}
	}
	return nil
}
