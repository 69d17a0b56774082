package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors of the store.
var (
	ErrNotFound  = errors.New("credential not found")
	ErrDuplicate = errors.New("a credential with this name already exists in the app")
)

// Credential is a stored credential without its values.
type Credential struct {
	ID        uuid.UUID  `json:"id"`
	AppID     uuid.UUID  `json:"app_id"`
	Name      string     `json:"name"`
	Connector string     `json:"connector"`
	CreatedBy *uuid.UUID `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// LastTest is the outcome of the latest connection test, nil before the first.
	LastTest *TestResult `json:"last_test"`
}

// TestResult is the outcome of a connection test.
type TestResult struct {
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// Store keeps credentials encrypted in the credentials table.
type Store struct {
	pool *pgxpool.Pool
	box  *Box
}

// NewStore returns a store sealing with box.
func NewStore(pool *pgxpool.Pool, box *Box) *Store { return &Store{pool: pool, box: box} }

// aad binds a ciphertext to its row so it cannot be copied to another app or credential.
func aad(appID, id uuid.UUID, connector string) []byte {
	return []byte("tessera/credential/v1/" + appID.String() + "/" + id.String() + "/" + connector)
}

// Create encrypts values and stores a new credential.
func (s *Store) Create(ctx context.Context, appID uuid.UUID, name, connector string, values map[string]string, createdBy *uuid.UUID) (Credential, error) {
	id := uuid.New()
	plain, err := json.Marshal(values)
	if err != nil {
		return Credential{}, fmt.Errorf("encoding credential values: %w", err)
	}
	ct, err := s.box.Seal(plain, aad(appID, id, connector))
	if err != nil {
		return Credential{}, fmt.Errorf("sealing credential: %w", err)
	}
	c := Credential{ID: id, AppID: appID, Name: name, Connector: connector, CreatedBy: createdBy}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO credentials (id, app_id, name, connector, ciphertext, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at, updated_at`,
			id, appID, name, connector, ct, createdBy).Scan(&c.CreatedAt, &c.UpdatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, createdBy, "credential.create", c, nil, auditView(c, values))
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return Credential{}, ErrDuplicate
		}
		return Credential{}, fmt.Errorf("storing credential: %w", err)
	}
	return c, nil
}

// audit writes an audit_log row for a credential change in tx: who, what and which fields
// are set before and after, never a value.
func audit(ctx context.Context, tx pgx.Tx, actor *uuid.UUID, action string, c Credential, before, after any) error {
	arg := func(v any) (*string, error) {
		if v == nil {
			return nil, nil // SQL NULL, like the other audit rows
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		str := string(b)
		return &str, nil
	}
	b, err := arg(before)
	if err != nil {
		return err
	}
	a, err := arg(after)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, action, target, before, after) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)`,
		actor, action, "credential:"+c.ID.String(), b, a); err != nil {
		return fmt.Errorf("auditing %s: %w", action, err)
	}
	return nil
}

// auditView is what the audit log keeps of a credential: its app, name, connector and the
// keys that have a value.
func auditView(c Credential, values map[string]string) map[string]any {
	keys := []string{}
	for k, v := range values {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return map[string]any{"app_id": c.AppID, "name": c.Name, "connector": c.Connector, "fields": keys}
}

// Update replaces a credential's values (rotation); the name and connector stay. actor is
// recorded in the audit log with the fields set before and after (never the values).
func (s *Store) Update(ctx context.Context, appID, id uuid.UUID, values map[string]string, actor *uuid.UUID) (Credential, error) {
	c, err := s.Get(ctx, appID, id)
	if err != nil {
		return Credential{}, err
	}
	var before any
	if _, old, err := s.Values(ctx, appID, id); err == nil {
		before = auditView(c, old)
	} else {
		before = map[string]any{"app_id": c.AppID, "name": c.Name, "connector": c.Connector}
	}
	plain, err := json.Marshal(values)
	if err != nil {
		return Credential{}, fmt.Errorf("encoding credential values: %w", err)
	}
	ct, err := s.box.Seal(plain, aad(appID, id, c.Connector))
	if err != nil {
		return Credential{}, fmt.Errorf("sealing credential: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `UPDATE credentials SET ciphertext = $3, updated_at = now(),
			last_test_ok = NULL, last_test_error = NULL, last_test_at = NULL
			WHERE app_id = $1 AND id = $2 RETURNING updated_at`, appID, id, ct).Scan(&c.UpdatedAt); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "credential.update", c, before, auditView(c, values))
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, ErrNotFound // deleted meanwhile
	}
	if err != nil {
		return Credential{}, fmt.Errorf("updating credential: %w", err)
	}
	c.LastTest = nil
	return c, nil
}

const columns = `id, app_id, name, connector, created_by, created_at, updated_at, last_test_ok, last_test_error, last_test_at`

func scan(row pgx.Row, extra ...any) (Credential, error) {
	var c Credential
	var ok *bool
	var msg *string
	var at *time.Time
	dest := append([]any{&c.ID, &c.AppID, &c.Name, &c.Connector, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &ok, &msg, &at}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Credential{}, err
	}
	if ok != nil && at != nil {
		c.LastTest = &TestResult{OK: *ok, At: *at}
		if msg != nil {
			c.LastTest.Error = *msg
		}
	}
	return c, nil
}

// List returns the app's credentials sorted by name, without values.
func (s *Store) List(ctx context.Context, appID uuid.UUID) ([]Credential, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM credentials WHERE app_id = $1 ORDER BY name`, appID)
	if err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing credentials: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing credentials: %w", err)
	}
	return out, nil
}

// Get returns one credential of the app without values.
func (s *Store) Get(ctx context.Context, appID, id uuid.UUID) (Credential, error) {
	c, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM credentials WHERE app_id = $1 AND id = $2`, appID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, ErrNotFound
	}
	if err != nil {
		return Credential{}, fmt.Errorf("reading credential: %w", err)
	}
	return c, nil
}

// GetByName returns one credential of the app by name, without values.
func (s *Store) GetByName(ctx context.Context, appID uuid.UUID, name string) (Credential, error) {
	c, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM credentials WHERE app_id = $1 AND name = $2`, appID, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, ErrNotFound
	}
	if err != nil {
		return Credential{}, fmt.Errorf("reading credential: %w", err)
	}
	return c, nil
}

// Values decrypts a credential of the app for the runtime (connector runs and tests). A
// credential of another app is ErrNotFound: credentials are usable only by their own app.
func (s *Store) Values(ctx context.Context, appID, id uuid.UUID) (Credential, map[string]string, error) {
	var ct []byte
	c, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+`, ciphertext FROM credentials WHERE app_id = $1 AND id = $2`, appID, id), &ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return Credential{}, nil, ErrNotFound
	}
	if err != nil {
		return Credential{}, nil, fmt.Errorf("reading credential: %w", err)
	}
	plain, err := s.box.Open(ct, aad(appID, id, c.Connector))
	if err != nil {
		return Credential{}, nil, fmt.Errorf("opening credential %s: %w", c.Name, err)
	}
	values := map[string]string{}
	if err := json.Unmarshal(plain, &values); err != nil {
		return Credential{}, nil, fmt.Errorf("decoding credential %s: %w", c.Name, err)
	}
	return c, values, nil
}

// Fields returns the keys that have a value in the credential (sorted), without the values,
// so a UI can show which fields are set.
func (s *Store) Fields(ctx context.Context, appID, id uuid.UUID) ([]string, error) {
	_, v, err := s.Values(ctx, appID, id)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(v))
	for k, val := range v {
		if val != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete removes a credential of the app; actor is recorded in the audit log.
func (s *Store) Delete(ctx context.Context, appID, id uuid.UUID, actor *uuid.UUID) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := scan(tx.QueryRow(ctx, `DELETE FROM credentials WHERE app_id = $1 AND id = $2 RETURNING `+columns, appID, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "credential.delete", c, map[string]any{"app_id": c.AppID, "name": c.Name, "connector": c.Connector}, nil)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting credential: %w", err)
	}
	return nil
}

// RecordTest stores the outcome of a connection test.
func (s *Store) RecordTest(ctx context.Context, appID, id uuid.UUID, r TestResult) error {
	var msg *string
	if r.Error != "" {
		msg = &r.Error
	}
	_, err := s.pool.Exec(ctx, `UPDATE credentials SET last_test_ok = $3, last_test_error = $4, last_test_at = $5
		WHERE app_id = $1 AND id = $2`, appID, id, r.OK, msg, r.At)
	if err != nil {
		return fmt.Errorf("recording credential test: %w", err)
	}
	return nil
}

// fingerprintKey is the kv_settings key holding the master key's fingerprint.
const fingerprintKey = "secrets.key_fingerprint"

// ErrKeyMismatch means credentials were saved with another master key (a replica or a
// restart without the TESSERA_SECRET_KEY the others use).
var ErrKeyMismatch = errors.New("the secret key differs from the one the saved credentials were encrypted with: set the same TESSERA_SECRET_KEY on every replica (or restore <data dir>/secret.key)")

// CheckKey compares the store's key with the fingerprint pinned in kv_settings: the first
// start pins it; a different key is ErrKeyMismatch while credentials exist (with none left,
// the new key is pinned instead).
func (s *Store) CheckKey(ctx context.Context) error {
	fp, err := s.box.Seal(nil, []byte(fingerprintKey))
	if err != nil {
		return err
	}
	probe, _ := json.Marshal(fp) // base64 in JSON
	var stored []byte
	err = s.pool.QueryRow(ctx, `INSERT INTO kv_settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = kv_settings.value RETURNING value`, fingerprintKey, probe).Scan(&stored)
	if err != nil {
		return fmt.Errorf("checking the secret key: %w", err)
	}
	var sealed []byte
	if err := json.Unmarshal(stored, &sealed); err == nil {
		if _, err := s.box.Open(sealed, []byte(fingerprintKey)); err == nil {
			return nil
		}
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM credentials`).Scan(&n); err != nil {
		return fmt.Errorf("checking the secret key: %w", err)
	}
	if n > 0 {
		return ErrKeyMismatch
	}
	if _, err := s.pool.Exec(ctx, `UPDATE kv_settings SET value = $2 WHERE key = $1`, fingerprintKey, probe); err != nil {
		return fmt.Errorf("pinning the secret key: %w", err)
	}
	return nil
}
