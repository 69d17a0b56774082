package forms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera/tessera/builder/spec"
)

// UploadTTL is how long a public upload token waits for the submission that uses it.
const UploadTTL = 24 * time.Hour

// DB is what the upload and lookup functions need: a pool or a transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// IssueUpload records that fileID was uploaded anonymously to field of the public form formID
// and returns the one-time token that stands for it (only its hash is stored).
func IssueUpload(ctx context.Context, db DB, formID uuid.UUID, field string, fileID uuid.UUID) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making upload token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	if _, err := db.Exec(ctx, `INSERT INTO form_uploads (token_hash, form_id, field, file_id) VALUES ($1,$2,$3,$4)`,
		hashToken(tok), formID, field, fileID); err != nil {
		return "", fmt.Errorf("recording upload token: %w", err)
	}
	return tok, nil
}

// SweepUploads deletes what anonymous visitors uploaded before cutoff and no submission
// claimed: the token, the file's row and the file under filesDir. Such a file was never attached
// to anything (only a claimed token attaches it) and its id was never shown to anyone. It answers
// how many files it removed. Safe on several replicas at once: each row is deleted once.
func SweepUploads(ctx context.Context, db DB, filesDir string, cutoff time.Time) (int, error) {
	rows, err := db.Query(ctx, `WITH gone AS (
			DELETE FROM form_uploads WHERE used_at IS NULL AND created_at < $1 RETURNING file_id)
		DELETE FROM files f USING gone
		WHERE f.id = gone.file_id AND f.record_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM form_uploads u WHERE u.file_id = f.id AND u.used_at IS NOT NULL)
		RETURNING f.path`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("sweeping unclaimed uploads: %w", err)
	}
	var paths []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sweeping unclaimed uploads: %w", err)
		}
		paths = append(paths, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweeping unclaimed uploads: %w", err)
	}
	for _, p := range paths {
		if p == "" || strings.ContainsAny(p, `/\`) || strings.Contains(p, "..") {
			continue // never a path outside the files directory
		}
		if err := os.Remove(filepath.Join(filesDir, p)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return len(paths), fmt.Errorf("removing unclaimed upload %s: %w", p, err)
		}
	}
	return len(paths), nil
}

// RunUploadSweeper sweeps unclaimed uploads older than UploadTTL every interval until ctx ends.
func RunUploadSweeper(ctx context.Context, db DB, filesDir string, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := SweepUploads(ctx, db, filesDir, time.Now().Add(-UploadTTL)); err != nil && ctx.Err() == nil {
			log.Warn("forms: sweeping unclaimed uploads failed", "error", err)
		} else if n > 0 {
			log.Info("forms: swept unclaimed uploads", "files", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Claim is the result of ClaimUploads: the file ids the submission may attach and the token
// hashes it used.
type Claim struct {
	Files  map[string]bool
	hashes []string
}

// ClaimUploads replaces, in the attachment fields of values, each {"token"} of a public upload
// by the file it stands for ({"id"}) and marks the token used, inside tx: a token works once,
// for the form and field it was issued for, within UploadTTL. A file id instead of a token, or a
// token that is unknown, of another form or field, expired or used already, is a field error
// (in locale). Run it in the transaction that writes the record: a failed write leaves the
// tokens unused.
func ClaimUploads(ctx context.Context, tx DB, formID uuid.UUID, ent *spec.Entity, values map[string]any, locale string) (*Claim, error) {
	c := &Claim{Files: map[string]bool{}}
	var errs spec.Errors
	keys := make([]string, 0, len(values))
	for k := range values {
		if fd := ent.Field(k); fd != nil && fd.Type == spec.TypeAttachment {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		list, ok := values[k].([]any)
		if !ok {
			if values[k] != nil {
				errs.Add(k, "invalid_type", "%s", msg(locale, "upload the file with the form's upload button", "请使用表单的上传按钮上传文件"))
			}
			continue
		}
		out := make([]any, 0, len(list))
		for _, it := range list {
			m, _ := it.(map[string]any)
			tok, _ := m["token"].(string)
			if tok == "" || len(tok) > 100 {
				errs.Add(k, "invalid_upload", "%s", msg(locale, "upload the file with the form's upload button", "请使用表单的上传按钮上传文件"))
				continue
			}
			var fileID uuid.UUID
			err := tx.QueryRow(ctx, `UPDATE form_uploads SET used_at = now()
				WHERE token_hash = $1 AND form_id = $2 AND field = $3 AND used_at IS NULL AND created_at > now() - make_interval(secs => $4)
				RETURNING file_id`, hashToken(tok), formID, k, UploadTTL.Seconds()).Scan(&fileID)
			if errors.Is(err, pgx.ErrNoRows) {
				errs.Add(k, "upload_invalid", "%s", msg(locale, "this upload has expired or was already used; please upload the file again", "文件上传已失效或已被使用，请重新上传"))
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("claiming upload: %w", err)
			}
			c.hashes = append(c.hashes, hashToken(tok))
			c.Files[fileID.String()] = true
			out = append(out, map[string]any{"id": fileID.String()})
		}
		values[k] = out
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Bind notes the submission (its receipt id) the claimed uploads were attached by.
func (c *Claim) Bind(ctx context.Context, tx DB, submissionID uuid.UUID) error {
	if c == nil || len(c.hashes) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE form_uploads SET submission_id = $2 WHERE token_hash = ANY($1)`, c.hashes, submissionID); err != nil {
		return fmt.Errorf("binding uploads: %w", err)
	}
	return nil
}

// LookupHit is one record a public relation lookup offers: its id, a label made of the exposed
// fields and those fields' values (option labels in the page's language).
type LookupHit struct {
	ID     string            `json:"id"`
	Label  string            `json:"label"`
	Fields map[string]string `json:"fields"`
}

// LookupLimit is the most records a public lookup answers.
const LookupLimit = 20

// Lookup searches the live records of entity target of app for q (case-insensitive, in any of
// the exposed fields) and answers only those fields, ordered by the first one. Field keys are
// bound as parameters; no SQL is built from the visitor's text.
func Lookup(ctx context.Context, db DB, appID uuid.UUID, target *spec.Entity, fields []string, q, locale string) ([]LookupHit, error) {
	if len(fields) == 0 {
		return []LookupHit{}, nil
	}
	args := []any{appID, target.Slug}
	cols := make([]string, len(fields))
	for i, k := range fields {
		args = append(args, k)
		cols[i] = fmt.Sprintf("r.data->>$%d", len(args))
	}
	sql := `SELECT r.id, ` + strings.Join(cols, ", ") + ` FROM records r WHERE r.app_id = $1 AND r.entity = $2 AND r.deleted_at IS NULL`
	if q = strings.TrimSpace(q); q != "" {
		if len(q) > 100 {
			q = q[:100]
		}
		q = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
		args = append(args, "%"+q+"%")
		ors := make([]string, len(cols))
		for i, c := range cols {
			ors[i] = c + fmt.Sprintf(" ILIKE $%d", len(args))
		}
		sql += " AND (" + strings.Join(ors, " OR ") + ")"
	}
	sql += " ORDER BY " + cols[0] + ", r.id LIMIT " + fmt.Sprint(LookupLimit)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", target.Slug, err)
	}
	defer rows.Close()
	out := []LookupHit{}
	for rows.Next() {
		var id uuid.UUID
		vals := make([]*string, len(fields))
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", target.Slug, err)
		}
		h := LookupHit{ID: id.String(), Fields: map[string]string{}}
		var parts []string
		for i, k := range fields {
			if vals[i] == nil || *vals[i] == "" {
				continue
			}
			v := *vals[i]
			if fd := target.Field(k); fd != nil {
				for _, o := range fd.Options {
					if o.Value == v {
						v = o.Label.Text(locale, v)
					}
				}
			}
			h.Fields[k] = v
			parts = append(parts, v)
		}
		h.Label = strings.Join(parts, " · ")
		out = append(out, h)
	}
	return out, rows.Err()
}
