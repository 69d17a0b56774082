package records

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
)

// StageCheck says whether a record could move to one stage now: the gates that a move there
// would check pass (Allowed), or the refusing gate's message.
type StageCheck struct {
	Stage   string `json:"stage"`
	Current bool   `json:"current,omitempty"`
	Allowed bool   `json:"allowed"`
	Message string `json:"message,omitempty"`
}

// StageChecks evaluates, for record id of entity (inside the read grant g), the stage gates of a
// move to every stage of the entity's order, exactly as a write would (the values after the
// change, formulas recomputed, countRecords inside a read-only transaction), without writing.
// Messages are given in locale (see LocalizeMessage). The entity must have stages.
func (s *Store) StageChecks(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant, locale string) ([]StageCheck, error) {
	ent, ver, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	if ent.Stages == nil || ent.Stages.Field == "" {
		return nil, fmt.Errorf("entity %q has no stages: %w", entity, ErrNotFound)
	}
	if !g.Allowed() {
		return nil, ErrNotFound
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("checking stages: %w", err)
	}
	defer tx.Rollback(ctx)
	cur, err := s.load(ctx, tx, app, entity, id, g, false)
	if err != nil {
		return nil, err
	}
	prog := s.progs.get(app.ID, ent, ver)
	now := s.now()
	from := stageOf(ent, cur.Data)
	out := make([]StageCheck, 0, len(ent.Stages.Order))
	for _, to := range ent.Stages.Order {
		c := StageCheck{Stage: to, Current: to == from, Allowed: true}
		if to != from {
			data := make(map[string]any, len(cur.Data)+1)
			for k, v := range cur.Data {
				data[k] = v
			}
			data[ent.Stages.Field] = to
			computeFormulas(ent, prog, data, cur.Data, now)
			err := checkGates(ent, prog, from, to, gateRecord(data, cur), gateRecord(cur.Data, cur), now, s.counter(ctx, tx, app))
			var fes spec.Errors
			switch {
			case errors.As(err, &fes) && len(fes) > 0:
				c.Allowed, c.Message = false, LocalizeMessage(fes[0].Message, locale)
			case err != nil:
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// LocalizeMessage picks the part of a bilingual message for locale ("en..." or Chinese). Two
// conventions are understood: "中文 / English" (the templates' gate messages) and
// "English (中文)" (the built-in messages). Any other message is answered as written.
func LocalizeMessage(msg, locale string) string {
	en := strings.HasPrefix(locale, "en")
	if a, b, ok := strings.Cut(msg, " / "); ok && hasHan(a) != hasHan(b) {
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if hasHan(a) == en {
			return b
		}
		return a
	}
	if strings.HasSuffix(msg, ")") {
		if i := strings.LastIndex(msg, " ("); i > 0 {
			head, zh := strings.TrimSpace(msg[:i]), msg[i+2:len(msg)-1]
			if hasHan(zh) && !hasHan(head) {
				if en {
					return head
				}
				return zh
			}
		}
	}
	return msg
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
