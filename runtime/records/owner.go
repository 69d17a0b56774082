package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
)

// SetOwner hands record id over to owner and the owner's team (what the flows' assign node
// does with its record parameter). The caller's grant must reach the record (ErrNotFound
// otherwise); owner must be an enabled user (422 at owner_id otherwise). The change is written
// as an "updated" record event {"owner_id": [old, new], "team_id": [old, new]} and fires the
// updated hooks with Changed = owner_id (and team_id when it changed). Handing a record to
// its current owner changes nothing and writes nothing.
func (s *Store) SetOwner(ctx context.Context, app *defs.App, entity string, id, owner uuid.UUID, w WriteOptions) (*Record, error) {
	if _, _, err := s.entityFor(ctx, app, entity, w); err != nil {
		return nil, err
	}
	g := grantOf(w)
	if !g.Allowed() {
		return nil, ErrForbidden
	}
	now := s.now()
	tx, err := s.begin(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("setting the owner: %w", err)
	}
	defer tx.Rollback(ctx)
	cur, err := s.load(ctx, tx, app, entity, id, g, true)
	if err != nil {
		return nil, err
	}
	var team *uuid.UUID
	err = tx.QueryRow(ctx, `SELECT team_id FROM users WHERE id = $1 AND NOT disabled`, owner).Scan(&team)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, spec.Errors{{Field: "owner_id", Code: "unknown_user",
			Message: fmt.Sprintf("user %[1]s does not exist or is disabled (用户 %[1]s 不存在或已停用)", owner)}}
	}
	if err != nil {
		return nil, fmt.Errorf("setting the owner: reading the user: %w", err)
	}
	if cur.OwnerID != nil && *cur.OwnerID == owner && sameID(cur.TeamID, team) {
		return visible(cur, g), nil
	}
	rec, err := scanRecord(tx.QueryRow(ctx, `UPDATE records SET owner_id = $2, team_id = $3, version = version + 1, updated_at = $4
		WHERE id = $1 RETURNING `+recordCols, cur.ID, owner, team, now), entity)
	if err != nil {
		return nil, fmt.Errorf("setting the owner: %w", err)
	}
	changes := map[string]any{"owner_id": []any{idOrNil(cur.OwnerID), owner.String()}}
	changed := []string{"owner_id"}
	if !sameID(cur.TeamID, team) {
		changes["team_id"] = []any{idOrNil(cur.TeamID), idOrNil(team)}
		changed = append(changed, "team_id")
	}
	if err := s.event(ctx, tx, app, entity, rec.ID, w, events.Updated, changes, now); err != nil {
		return nil, err
	}
	c := s.change(events.Updated, app, entity, rec, cur.Data, w, now)
	c.Changed = changed
	if err := s.fire(ctx, tx, c); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing the owner: %w", err)
	}
	return visible(rec, g), nil
}

func sameID(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func idOrNil(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return id.String()
}
