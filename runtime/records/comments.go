package records

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/notify"
)

// Comment is one comment on a record.
type Comment struct {
	ID         uuid.UUID   `json:"id"`
	Author     *uuid.UUID  `json:"author"`
	AuthorName string      `json:"author_name"`
	Body       string      `json:"body"`
	Mentions   []uuid.UUID `json:"mentions"`
	CreatedAt  time.Time   `json:"created_at"`
}

// MentionError lists mentioned users who may not read the record: nobody is notified and the
// comment is not written.
type MentionError struct {
	Users []uuid.UUID
	Names []string
}

func (e *MentionError) Error() string {
	return "mentioned users may not read this record: " + strings.Join(e.Names, ", ")
}

// ReaderGrant answers a user's read grant on an entity of the app (nil grant: none).
type ReaderGrant func(ctx context.Context, user uuid.UUID, entity string) (access.Grant, error)

// Comments lists the comments on a record inside g, oldest first.
func (s *Store) Comments(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant) ([]Comment, error) {
	if _, err := s.Get(ctx, app, entity, id, g); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.author, coalesce(u.name, ''), c.body, c.mentions, c.created_at
		FROM record_comments c LEFT JOIN users u ON u.id = c.author
		WHERE c.app_id = $1 AND c.entity = $2 AND c.record_id = $3 ORDER BY c.created_at, c.id LIMIT 500`, app.ID, entity, id)
	if err != nil {
		return nil, fmt.Errorf("listing comments: %w", err)
	}
	defer rows.Close()
	out := []Comment{}
	for rows.Next() {
		var c Comment
		if err := rows.Scan(&c.ID, &c.Author, &c.AuthorName, &c.Body, &c.Mentions, &c.CreatedAt); err != nil {
			return nil, fmt.Errorf("listing comments: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddComment writes a comment on a record the author reads (inside g) and notifies each
// mentioned user, all in one transaction. A mentioned user who may not read the record (no
// grant, outside their scope, disabled or unknown) fails the whole comment with a MentionError,
// so a mention never leaks the record to someone who could not open it.
func (s *Store) AddComment(ctx context.Context, app *defs.App, entity string, id uuid.UUID, g access.Grant, author access.Subject, authorName, body string, mentions []uuid.UUID, reader ReaderGrant) (*Comment, error) {
	ent, _, err := s.entity(ctx, app, entity)
	if err != nil {
		return nil, err
	}
	rec, err := s.Get(ctx, app, entity, id, g)
	if err != nil {
		return nil, err
	}
	seen := map[uuid.UUID]bool{}
	var ms []uuid.UUID
	for _, m := range mentions {
		if !seen[m] && m != uuid.Nil {
			seen[m] = true
			ms = append(ms, m)
		}
	}
	bad := &MentionError{}
	for _, m := range ms {
		var name string
		var disabled bool
		err := s.pool.QueryRow(ctx, `SELECT name, disabled FROM users WHERE id = $1`, m).Scan(&name, &disabled)
		if errors.Is(err, pgx.ErrNoRows) {
			bad.Users, bad.Names = append(bad.Users, m), append(bad.Names, m.String()[:8])
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checking mention: %w", err)
		}
		ok := false
		if !disabled {
			mg, err := reader(ctx, m, entity)
			if err != nil {
				return nil, fmt.Errorf("checking mention: %w", err)
			}
			ok = mg.Allowed() && mg.Visible(rec.OwnerID, rec.TeamID)
		}
		if !ok {
			bad.Users, bad.Names = append(bad.Users, m), append(bad.Names, name)
		}
	}
	if len(bad.Users) > 0 {
		return nil, bad
	}
	if ms == nil {
		ms = []uuid.UUID{}
	}
	c := &Comment{Body: body, Mentions: ms, AuthorName: authorName}
	if author.UserID != uuid.Nil {
		a := author.UserID
		c.Author = &a
	}
	title := recordTitle(ent, rec.Data)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO record_comments (app_id, entity, record_id, author, body, mentions) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
			app.ID, entity, id, c.Author, body, ms).Scan(&c.ID, &c.CreatedAt); err != nil {
			return fmt.Errorf("adding comment: %w", err)
		}
		excerpt := body
		if r := []rune(excerpt); len(r) > 140 {
			excerpt = string(r[:140]) + "…"
		}
		appID, recID := app.ID, id
		for _, m := range ms {
			if c.Author != nil && m == *c.Author {
				continue
			}
			if _, err := notify.Send(ctx, tx, notify.Notification{UserID: m, Kind: notify.KindMention, Title: title, AppID: &appID, RecordID: &recID,
				Params: map[string]any{"by_name": authorName, "comment": excerpt, "comment_id": c.ID.String()}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
