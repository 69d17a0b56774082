package secrets_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/secrets"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := secrets.LoadKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, secrets.KeyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	k2, err := secrets.LoadKey("", dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load differs: %v", err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	k3, err := secrets.LoadKey(env, dir)
	if err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{7}, 32)) {
		t.Fatalf("env key: %v", err)
	}
	for _, bad := range []string{"not base64!!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := secrets.LoadKey(bad, dir); err == nil {
			t.Errorf("bad key %q accepted", bad)
		}
	}
}

func TestBoxTamper(t *testing.T) {
	box, _ := secrets.NewBox(bytes.Repeat([]byte{1}, 32))
	ct, err := box.Seal([]byte("hello"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := box.Open(ct, []byte("a")); err != nil || string(pt) != "hello" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := box.Open(ct, []byte("b")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatal("wrong aad accepted")
	}
	ct[len(ct)-1] ^= 1
	if _, err := box.Open(ct, []byte("a")); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatal("tampered ciphertext accepted")
	}
	other, _ := secrets.NewBox(bytes.Repeat([]byte{2}, 32))
	ct2, _ := box.Seal([]byte("x"), nil)
	if _, err := other.Open(ct2, nil); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatal("other key accepted")
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	var owner, app1, app2 uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ('o@x.cn', 'O', 'x') RETURNING id`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		slug string
		id   *uuid.UUID
	}{{"one", &app1}, {"two", &app2}} {
		if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ($1, $1) RETURNING id`, p.slug).Scan(p.id); err != nil {
			t.Fatal(err)
		}
	}
	box, _ := secrets.NewBox(bytes.Repeat([]byte{9}, 32))
	s := secrets.NewStore(d.Pool, box)
	c, err := s.Create(ctx, app1, "钉钉机器人", "dingtalk", map[string]string{"access_token": "tok-123", "secret": "SEC-abc"}, &owner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, app1, "钉钉机器人", "dingtalk", nil, nil); !errors.Is(err, secrets.ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	var raw []byte
	if err := d.Pool.QueryRow(ctx, `SELECT ciphertext FROM credentials WHERE id = $1`, c.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("tok-123")) || bytes.Contains(raw, []byte("SEC-abc")) {
		t.Fatal("plaintext stored")
	}
	_, v, err := s.Values(ctx, app1, c.ID)
	if err != nil || v["secret"] != "SEC-abc" {
		t.Fatalf("values: %v %v", v, err)
	}
	if _, _, err := s.Values(ctx, app2, c.ID); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("other app read the credential: %v", err)
	}
	// A ciphertext copied onto another row (or app) does not open.
	c2, _ := s.Create(ctx, app2, "copy", "dingtalk", map[string]string{}, nil)
	if _, err := d.Pool.Exec(ctx, `UPDATE credentials SET ciphertext = $1 WHERE id = $2`, raw, c2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Values(ctx, app2, c2.ID); !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("moved ciphertext opened: %v", err)
	}
	list, err := s.List(ctx, app1)
	if err != nil || len(list) != 1 || list[0].Name != "钉钉机器人" || list[0].LastTest != nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.RecordTest(ctx, app1, c.ID, secrets.TestResult{OK: false, Error: "401"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, app1, c.ID)
	if got.LastTest == nil || got.LastTest.OK || got.LastTest.Error != "401" {
		t.Fatalf("last test: %+v", got.LastTest)
	}
	if _, err := s.Update(ctx, app1, c.ID, map[string]string{"access_token": "new"}, &owner); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Fields(ctx, app1, c.ID); len(f) != 1 || f[0] != "access_token" {
		t.Fatalf("fields after update: %v", f)
	}
	if err := s.Delete(ctx, app2, c.ID, &owner); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("deleted through another app")
	}
	if err := s.Delete(ctx, app1, c.ID, &owner); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, app1, c.ID); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("still there")
	}
	if _, err := s.Update(ctx, app1, c.ID, map[string]string{"access_token": "x"}, &owner); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("update of a deleted credential: %v", err)
	}

	// Every change is audited in its own transaction: who, which fields, never a value.
	rows, err := d.Pool.Query(ctx, `SELECT action, actor, coalesce(before::text, ''), coalesce(after::text, '') FROM audit_log WHERE target = $1 ORDER BY id`, "credential:"+c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var audited []string
	for rows.Next() {
		var action, before, after string
		var actor *uuid.UUID
		if err := rows.Scan(&action, &actor, &before, &after); err != nil {
			t.Fatal(err)
		}
		if actor == nil || *actor != owner {
			t.Errorf("%s: actor %v", action, actor)
		}
		for _, secret := range []string{"tok-123", "SEC-abc", `"new"`} {
			if strings.Contains(before+after, secret) {
				t.Errorf("%s: audit holds a value: %s %s", action, before, after)
			}
		}
		audited = append(audited, action+" "+before+" -> "+after)
	}
	want := []string{
		`credential.create  -> {"name": "钉钉机器人", "app_id": "` + app1.String() + `", "fields": ["access_token", "secret"], "connector": "dingtalk"}`,
		`credential.update {"name": "钉钉机器人", "app_id": "` + app1.String() + `", "fields": ["access_token", "secret"], "connector": "dingtalk"} -> {"name": "钉钉机器人", "app_id": "` + app1.String() + `", "fields": ["access_token"], "connector": "dingtalk"}`,
		`credential.delete {"name": "钉钉机器人", "app_id": "` + app1.String() + `", "connector": "dingtalk"} -> `,
	}
	if strings.Join(audited, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(audited, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckKey(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	boxA, _ := secrets.NewBox(bytes.Repeat([]byte{1}, 32))
	boxB, _ := secrets.NewBox(bytes.Repeat([]byte{2}, 32))
	a, b := secrets.NewStore(d.Pool, boxA), secrets.NewStore(d.Pool, boxB)
	if err := a.CheckKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckKey(ctx); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	// No credentials yet: another key is pinned instead (nothing would be lost).
	if err := b.CheckKey(ctx); err != nil {
		t.Fatalf("re-pin without credentials: %v", err)
	}
	var app uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('k', 'K') RETURNING id`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, app, "c", "slack", map[string]string{"webhook_url": "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckKey(ctx); !errors.Is(err, secrets.ErrKeyMismatch) {
		t.Fatalf("want mismatch, got %v", err)
	}
	if err := b.CheckKey(ctx); err != nil {
		t.Fatal(err)
	}
}
