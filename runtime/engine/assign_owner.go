package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/events"
)

// OwnerSetter is a RecordStore that can hand a record over to a user and their team (the
// assign node's record parameter). The server's store checks the flow's identity like any
// write; SQLRecords writes directly.
type OwnerSetter interface {
	SetOwner(ctx context.Context, c RecordCall, owner uuid.UUID) (map[string]any, error)
}

// handOver makes the chosen user (out["user_id"]) the owner of the node's record, when the node
// names one; the record's entity is the node's entity param, else the trigger's.
func (n *assignNode) handOver(x *Exec, out map[string]any) error {
	if n.record == nil {
		return nil
	}
	rid, err := optionalID(n.record, x.Env)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if rid == nil {
		return nil // an empty record template: nothing to hand over
	}
	user, err := uuid.Parse(Stringify(out["user_id"]))
	if err != nil {
		return fmt.Errorf("assign: chosen user %v is not an id", out["user_id"])
	}
	entity, err := n.entity.Eval(x.Env)
	if err != nil {
		return err
	}
	if entity == "" {
		if t, ok := x.Env["trigger"].(map[string]any); ok {
			entity = Stringify(t["entity"])
		}
	}
	if entity == "" {
		return errors.New("record: name the entity (the trigger has none) / 请填写实体（触发器没有实体）")
	}
	setter, ok := x.Engine.opts.Records.(OwnerSetter)
	if !ok {
		return errors.New("records cannot be handed over here / 此处无法移交记录")
	}
	if _, err := setter.SetOwner(x.Ctx, RecordCall{AppID: x.AppID, Subject: x.Subject, Entity: entity, ID: *rid}, user); err != nil {
		return fmt.Errorf("handing record %s over: %w", rid, err)
	}
	out["record_id"] = rid.String()
	return nil
}

// SetOwner hands a record over to owner and the owner's team and runs the hooks.
func (s *SQLRecords) SetOwner(ctx context.Context, c RecordCall, to uuid.UUID) (map[string]any, error) {
	var out map[string]any
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var team *uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT team_id FROM users WHERE id = $1 AND NOT disabled`, to).Scan(&team); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("user %s does not exist or is disabled (用户不存在或已停用)", to)
			}
			return fmt.Errorf("reading the owner: %w", err)
		}
		var data []byte
		var version int
		var own *uuid.UUID
		var created, updated time.Time
		if err := tx.QueryRow(ctx, `UPDATE records SET owner_id = $4, team_id = $5, version = version + 1, updated_at = now()
			WHERE app_id = $1 AND entity = $2 AND id = $3 AND deleted_at IS NULL AND owner_id IS DISTINCT FROM $4
			RETURNING data, version, owner_id, created_at, updated_at`, c.AppID, c.Entity, c.ID, to, team).
			Scan(&data, &version, &own, &created, &updated); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE app_id = $1 AND entity = $2 AND id = $3 AND deleted_at IS NULL)`,
					c.AppID, c.Entity, c.ID).Scan(&exists); err != nil || !exists {
					return ErrRecordNotFound
				}
				out = map[string]any{"id": c.ID.String(), "owner_id": to.String()}
				return nil // already theirs
			}
			return fmt.Errorf("setting the owner: %w", err)
		}
		out = recordJSON(c.ID, data, version, own, created, updated)
		rec, _ := out["data"].(map[string]any)
		return s.runHooks(ctx, tx, events.Change{Kind: events.Updated, AppID: c.AppID, Entity: c.Entity, RecordID: c.ID, Record: rec, Old: rec,
			Changed: []string{"owner_id"}, Actor: owner(c.Subject), At: updated})
	})
	return out, err
}
