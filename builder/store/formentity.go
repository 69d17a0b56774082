package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
)

// FormWithEntity is a form and the entity it writes, saved together (the form designer creates
// entity fields while placing them).
type FormWithEntity struct {
	FormSlug   string
	Form       []byte
	EntitySlug string
	Entity     []byte // nil: only the form
	Publish    bool   // publish the entity, then the form
}

// SaveFormWithEntity saves the drafts of a form and its entity in one transaction and, when
// asked, publishes both (the entity first, so the form sees its new fields): either everything
// is written or nothing. Validation errors carry "entity." or "form." before their path. It
// returns the published versions (0 when not published).
func (s *Store) SaveFormWithEntity(ctx context.Context, actor *uuid.UUID, app *App, in FormWithEntity) (entVersion, formVersion int, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("saving form and entity: %w", err)
	}
	defer tx.Rollback(ctx)
	if in.Entity != nil {
		if _, _, err := saveDraft(ctx, tx, actor, app, spec.KindEntity, in.EntitySlug, in.Entity); err != nil {
			return 0, 0, prefixErrors("entity.", err)
		}
	}
	if _, _, err := saveDraft(ctx, tx, actor, app, spec.KindForm, in.FormSlug, in.Form); err != nil {
		return 0, 0, prefixErrors("form.", err)
	}
	if in.Publish {
		if in.Entity != nil {
			if entVersion, err = s.publish(ctx, tx, actor, app, spec.KindEntity, in.EntitySlug, nil); err != nil {
				return 0, 0, prefixErrors("entity.", err)
			}
		}
		if formVersion, err = s.publish(ctx, tx, actor, app, spec.KindForm, in.FormSlug, nil); err != nil {
			return 0, 0, prefixErrors("form.", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("saving form and entity: %w", err)
	}
	return entVersion, formVersion, nil
}

// prefixErrors puts prefix before the paths of validation errors; other errors pass through.
func prefixErrors(prefix string, err error) error {
	errs, ok := err.(spec.Errors)
	if !ok {
		return err
	}
	out := make(spec.Errors, len(errs))
	for i, e := range errs {
		e.Field = prefix + e.Field
		out[i] = e
	}
	return out
}
