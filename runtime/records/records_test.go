package records_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/dbtest"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// leadEntity is the DESIGN 6a example plus the gate with the 72 h rule and a few more types.
const leadEntity = `{"slug":"lead","label":{"en":"Lead","zh-CN":"线索"},"fields":[
 {"key":"name","type":"text","required":true},
 {"key":"phone","type":"phone","unique":true},
 {"key":"email","type":"email"},
 {"key":"amount","type":"money"},
 {"key":"stage","type":"select","options":["new","proposal","negotiation","won"]},
 {"key":"files","type":"attachment","multiple":true},
 {"key":"tags","type":"multiselect","options":["a","b"]},
 {"key":"last_customer_message_at","type":"datetime"},
 {"key":"code","type":"autonumber","prefix":"L-"},
 {"key":"double","type":"formula","formula":"record.amount == nil ? nil : record.amount * 2"},
 {"key":"source","type":"text","default":"web"},
 {"key":"cost","type":"number"}],
 "stages":{"field":"stage","order":["new","proposal","negotiation","won"],"transitions":[
  {"from":"proposal","to":"negotiation","require":"any(record.files, {.name contains \"报价单\"})","message":"请上传带客户名称的正式报价单"},
  {"from":"negotiation","to":"won","require":"any(record.files, {.name contains \"报价单\" && .type == \"application/pdf\" && hoursBetween(.uploaded_at, record.last_customer_message_at) <= 72})","message":"72 小时内需上传 PDF 报价单"}]},
 "dedupe":{"keys":[["phone"],["email"]],"on_duplicate":"merge"}}`

type env struct {
	t     *testing.T
	d     *db.DB
	app   *defs.App
	store *records.Store
	admin access.Subject
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	ctx := context.Background()
	e := &env{t: t, d: d, app: &defs.App{Slug: "crm", Name: "CRM"}}
	if err := d.Pool.QueryRow(ctx, `INSERT INTO apps (slug, name) VALUES ('crm','CRM') RETURNING id`).Scan(&e.app.ID); err != nil {
		t.Fatal(err)
	}
	var uid uuid.UUID
	if err := d.Pool.QueryRow(ctx, `INSERT INTO users (email, name, is_admin) VALUES ('a@example.com','A',true) RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	e.admin = access.Subject{UserID: uid, IsAdmin: true}
	e.store = records.New(d.Pool, defs.New(d.Pool), records.Options{FilesDir: t.TempDir()})
	e.publish(spec.KindEntity, "lead", leadEntity)
	return e
}

// Publish inserts a published definition directly (the builder's publish route is elsewhere).
func Publish(t testing.TB, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, appID uuid.UUID, kind, slug, body string, version int) {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	if err := pool.QueryRow(ctx, `INSERT INTO definitions (app_id, kind, slug, draft, published_version) VALUES ($1,$2,$3,$4::jsonb,$5)
		ON CONFLICT (app_id, kind, slug) DO UPDATE SET draft = EXCLUDED.draft, published_version = EXCLUDED.published_version RETURNING id`,
		appID, kind, slug, body, version).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := pool.QueryRow(ctx, `INSERT INTO definition_versions (definition_id, version, body) VALUES ($1,$2,$3::jsonb) RETURNING 1`, id, version, body).Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func (e *env) publish(kind, slug, body string) { Publish(e.t, e.d.Pool, e.app.ID, kind, slug, body, 1) }

func (e *env) w() records.WriteOptions {
	return records.WriteOptions{Actor: e.admin, Grant: access.All(), Source: "test"}
}

func (e *env) file(name, typ string, at time.Time) string {
	var id uuid.UUID
	if err := e.d.Pool.QueryRow(context.Background(), `INSERT INTO files (name, type, size, sha256, path, uploaded_by, uploaded_at) VALUES ($1,$2,10,'x','x',$3,$4) RETURNING id`,
		name, typ, e.admin.UserID, at).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id.String()
}

func fieldErr(t *testing.T, err error, field, code string) {
	t.Helper()
	var errs spec.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want spec.Errors on %s/%s, got %v", field, code, err)
	}
	for _, fe := range errs {
		if fe.Field == field && fe.Code == code {
			return
		}
	}
	t.Fatalf("want %s/%s, got %v", field, code, errs)
}

// TestNormalize covers the normalisation of every field type.
func TestNormalize(t *testing.T) {
	two := 2
	min, max := 0.0, 100.0
	cases := []struct {
		name  string
		field spec.Field
		in    any
		want  any
		code  string
	}{
		{"text trimmed", spec.Field{Type: "text"}, "  张三 ", "张三", ""},
		{"text number", spec.Field{Type: "text"}, json.Number("12"), "12", ""},
		{"text empty", spec.Field{Type: "text"}, "  ", nil, ""},
		{"text too long", spec.Field{Type: "text", MaxLength: 3}, "abcd", nil, "too_long"},
		{"text pattern", spec.Field{Type: "text", Pattern: `^\d+$`}, "12a", nil, "pattern"},
		{"text bad type", spec.Field{Type: "text"}, []any{"x"}, nil, "invalid_type"},
		{"textarea keeps spaces", spec.Field{Type: "textarea"}, " a\nb ", " a\nb ", ""},
		{"number", spec.Field{Type: "number"}, json.Number("3.5"), 3.5, ""},
		{"number string", spec.Field{Type: "number"}, "1,000", 1000.0, ""},
		{"number bad", spec.Field{Type: "number"}, "abc", nil, "invalid_type"},
		{"number thousands decimals", spec.Field{Type: "number"}, "-1,234,567.5", -1234567.5, ""},
		{"number stray commas", spec.Field{Type: "number"}, "1,,0", nil, "invalid_type"},
		{"number comma not thousands", spec.Field{Type: "number"}, "1,2", nil, "invalid_type"},
		{"percent sign", spec.Field{Type: "percent"}, "50%", 50.0, ""},
		{"number min", spec.Field{Type: "number", Min: &min}, -1.0, nil, "too_small"},
		{"percent max", spec.Field{Type: "percent", Max: &max}, 101.0, nil, "too_large"},
		{"money rounds", spec.Field{Type: "money"}, 10.005, 10.01, ""},
		{"money precision", spec.Field{Type: "money", Precision: &two}, "99.999", 100.0, ""},
		{"email lower", spec.Field{Type: "email"}, " Foo@Example.COM ", "foo@example.com", ""},
		{"email bad", spec.Field{Type: "email"}, "foo@", nil, "invalid_email"},
		{"email display name", spec.Field{Type: "email"}, "Foo <foo@example.com>", nil, "invalid_email"},
		{"phone CN", spec.Field{Type: "phone"}, "138 0013 8000", "+8613800138000", ""},
		{"phone intl", spec.Field{Type: "phone"}, "+1 650-253-0000", "+16502530000", ""},
		{"phone region", spec.Field{Type: "phone", Region: "US"}, "(650) 253-0000", "+16502530000", ""},
		{"phone bad", spec.Field{Type: "phone"}, "12345", nil, "invalid_phone"},
		{"url scheme added", spec.Field{Type: "url"}, "example.com/a", "https://example.com/a", ""},
		{"url bad scheme", spec.Field{Type: "url"}, "javascript:alert(1)", nil, "invalid_url"},
		{"url credentials", spec.Field{Type: "url"}, "https://bank.example@evil.example/login", nil, "invalid_url"},
		{"url idn host kept readable", spec.Field{Type: "url"}, "例子.中国/a?q=1", "https://例子.中国/a?q=1", ""},
		{"date", spec.Field{Type: "date"}, "2026-03-01", "2026-03-01", ""},
		{"date from datetime", spec.Field{Type: "date"}, "2026-03-01T10:00:00+08:00", "2026-03-01", ""},
		{"date bad", spec.Field{Type: "date"}, "2026-02-30", nil, "invalid_date"},
		{"datetime utc", spec.Field{Type: "datetime"}, "2026-03-01T10:00:00+08:00", "2026-03-01T02:00:00Z", ""},
		{"datetime past year 9999 in UTC", spec.Field{Type: "datetime"}, "9999-12-31T23:59:59-23:59", nil, "invalid_date"},
		{"datetime before year 1 in UTC", spec.Field{Type: "datetime"}, "0001-01-01T00:00:00+01:00", nil, "invalid_date"},
		{"datetime bad", spec.Field{Type: "datetime"}, "garbage", nil, "invalid_date"},
		{"select", spec.Field{Type: "select", Options: []spec.Option{{Value: "new"}}}, "new", "new", ""},
		{"select by label", spec.Field{Type: "select", Options: []spec.Option{{Value: "new", Label: spec.Label{"zh-CN": "新建"}}}}, "新建", "new", ""},
		{"select bad", spec.Field{Type: "select", Options: []spec.Option{{Value: "new"}}}, "old", nil, "invalid_option"},
		{"multiselect ordered", spec.Field{Type: "multiselect", Options: []spec.Option{{Value: "a"}, {Value: "b"}}}, []any{"b", "a", "b"}, []any{"a", "b"}, ""},
		{"multiselect bad", spec.Field{Type: "multiselect", Options: []spec.Option{{Value: "a"}}}, []any{"z"}, nil, "invalid_option"},
		{"boolean", spec.Field{Type: "boolean"}, true, true, ""},
		{"boolean string", spec.Field{Type: "boolean"}, "否", false, ""},
		{"boolean bad", spec.Field{Type: "boolean"}, "maybe", nil, "invalid_type"},
		{"user", spec.Field{Type: "user"}, "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff", ""},
		{"user bad", spec.Field{Type: "user"}, "bob", nil, "invalid_id"},
		{"team multiple", spec.Field{Type: "team", Multiple: true}, "6f9619ff-8b86-d011-b42d-00c04fc964ff", []any{"6f9619ff-8b86-d011-b42d-00c04fc964ff"}, ""},
		{"relation", spec.Field{Type: "relation"}, "6f9619ff-8b86-d011-b42d-00c04fc964ff", "6f9619ff-8b86-d011-b42d-00c04fc964ff", ""},
		{"attachment ids", spec.Field{Type: "attachment", Multiple: true}, []any{map[string]any{"id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}}, []any{map[string]any{"id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}}, ""},
		{"attachment single only", spec.Field{Type: "attachment"}, []any{"6f9619ff-8b86-d011-b42d-00c04fc964ff", "7f9619ff-8b86-d011-b42d-00c04fc964ff"}, nil, "too_many"},
		{"attachment bad", spec.Field{Type: "attachment"}, []any{map[string]any{"name": "x"}}, nil, "invalid_id"},
		{"autonumber read-only", spec.Field{Type: "autonumber"}, "L-1", nil, "read_only"},
		{"formula read-only", spec.Field{Type: "formula"}, 1.0, nil, "read_only"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.field
			f.Key = "f"
			var errs spec.Errors
			got := records.Normalize(&f, tc.in, "f", &errs)
			if tc.code != "" {
				if len(errs) != 1 || errs[0].Code != tc.code {
					t.Fatalf("want error %s, got %v (value %v)", tc.code, errs, got)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors %v", errs)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if string(gb) != string(wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
		})
	}
}

// TestCreateDefaultsAndComputed checks create: normalisation, defaults, initial stage,
// autonumber, formula, required, unknown fields, read-only and hidden fields.
func TestCreateDefaultsAndComputed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "张三", "phone": "138 0013 8000", "email": "ZS@Example.com", "amount": json.Number("1200.5")}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "张三", "phone": "+8613800138000", "email": "zs@example.com", "amount": 1200.5, "stage": "new", "source": "web", "code": "L-0001", "double": 2401.0}
	for k, v := range want {
		if fmt.Sprint(r.Data[k]) != fmt.Sprint(v) {
			t.Errorf("data[%s] = %v, want %v", k, r.Data[k], v)
		}
	}
	if r.Version != 1 || r.OwnerID == nil || *r.OwnerID != e.admin.UserID {
		t.Errorf("version/owner: %+v", r)
	}
	r2, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "李四"}, e.w())
	if err != nil || r2.Data["code"] != "L-0002" {
		t.Fatalf("second autonumber: %v %v", r2, err)
	}

	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"phone": "13800138001"}, e.w())
	fieldErr(t, err, "name", "required")
	// a required value that fails validation is reported once, as invalid, not also as missing
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": map[string]any{"x": 1}}, e.w())
	var errs spec.Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Field != "name" || errs[0].Code == "required" {
		t.Fatalf("invalid required value: want one non-required error on name, got %v", err)
	}
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "x", "nope": 1}, e.w())
	fieldErr(t, err, "nope", "unknown_field")

	hidden := e.w()
	hidden.Grant.Hidden = map[string]bool{"cost": true}
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "x", "cost": 1}, hidden)
	fieldErr(t, err, "cost", "unknown_field")

	ro := e.w()
	ro.Grant.ReadOnly = map[string]bool{"amount": true}
	if _, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "x", "amount": 1}, ro); !errors.Is(err, records.ErrReadOnlyField) {
		t.Fatalf("read-only: %v", err)
	}
	// a form posting every field sends read-only ones empty: that sets nothing and is allowed
	if _, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "ro-empty", "amount": nil}, ro); err != nil {
		t.Fatalf("read-only field sent empty: %v", err)
	}
	if _, err := e.store.Create(ctx, e.app, "nope", map[string]any{"name": "x"}, e.w()); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("unknown entity: %v", err)
	}
}

// TestUniqueAndIndexes checks the unique check, ProvisionIndexes and the race the index closes.
func TestUniqueAndIndexes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ent, _, err := defs.New(e.d.Pool).Entity(ctx, e.app.ID, "lead")
	if err != nil {
		t.Fatal(err)
	}
	// no dedupe here, so unique is what stops the duplicate
	ent.Dedupe = nil
	body, _ := json.Marshal(ent)
	Publish(t, e.d.Pool, e.app.ID, spec.KindEntity, "lead", string(body), 2)
	for i := 0; i < 2; i++ { // idempotent
		tx, err := e.d.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := records.ProvisionIndexes(ctx, tx, e.app, ent); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := e.d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname = $1 AND indexdef LIKE 'CREATE UNIQUE INDEX%'`,
		records.IndexName(e.app.ID, "lead", ent.Field("phone"))).Scan(&n); err != nil || n != 1 {
		t.Fatalf("unique index missing: %d %v", n, err)
	}
	// with statistics on its expression (the planner ignores a partial index's own), made once
	if err := e.d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_statistic_ext WHERE stxname = $1`,
		records.IndexName(e.app.ID, "lead", ent.Field("phone"))+"_st").Scan(&n); err != nil || n != 1 {
		t.Fatalf("statistics on the phone index: %d %v, want 1", n, err)
	}
	if _, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a", "phone": "13800138000"}, e.w()); err != nil {
		t.Fatal(err)
	}
	// the unique check's query shape uses the partial expression index
	etx, err := e.d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer etx.Rollback(ctx)
	if _, err := etx.Exec(ctx, `INSERT INTO records (app_id, entity, data) SELECT $1, 'lead', jsonb_build_object('name', 'n', 'phone', '+86139' || lpad(g::text, 8, '0')) FROM generate_series(1, 5000) g`, e.app.ID); err != nil {
		t.Fatal(err)
	}
	_, _ = etx.Exec(ctx, `ANALYZE records`)
	var plan string
	if err := etx.QueryRow(ctx, fmt.Sprintf(`EXPLAIN (FORMAT JSON) SELECT EXISTS (SELECT 1 FROM records WHERE app_id = '%s' AND entity = 'lead' AND deleted_at IS NULL
		AND id <> $1 AND (data->>'phone') = $2::text)`, e.app.ID), uuid.Nil, "+8613800138000").Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, records.IndexName(e.app.ID, "lead", ent.Field("phone"))) {
		t.Errorf("unique check does not use the index: %s", plan)
	}
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "b", "phone": "+86 138 0013 8000"}, e.w())
	fieldErr(t, err, "phone", "unique")

	// concurrent creates of one new value: exactly one wins, the other is a 422 unique error
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "c", "phone": "13900139000"}, e.w())
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			fieldErr(t, err, "phone", "unique")
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent creates succeeded", ok)
	}
}

// TestDedupe checks merge (existing record answered, values merged, merged event) and reject.
func TestDedupe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "张三", "phone": "13800138000", "tags": []any{"a"}}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "Zhang", "phone": "+86 138-0013-8000", "email": "z@example.com", "tags": []any{"b"}}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Merged || m.ID != first.ID || m.Data["name"] != "张三" || m.Data["email"] != "z@example.com" || len(m.Data["tags"].([]any)) != 2 || m.Version != 2 {
		t.Fatalf("merge result %+v", m)
	}
	hist, err := e.store.History(ctx, e.app, "lead", first.ID, access.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Kind != "created" || hist[1].Kind != "stage" || hist[2].Kind != "merged" {
		t.Fatalf("history %+v", hist)
	}
	// by email too
	m2, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "x", "email": "Z@EXAMPLE.com"}, e.w())
	if err != nil || !m2.Merged || m2.ID != first.ID {
		t.Fatalf("email merge %+v %v", m2, err)
	}

	ent, _, _ := defs.New(e.d.Pool).Entity(ctx, e.app.ID, "lead")
	ent.Dedupe.OnDuplicate = "reject"
	body, _ := json.Marshal(ent)
	Publish(t, e.d.Pool, e.app.ID, spec.KindEntity, "lead", string(body), 2)
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "y", "phone": "13800138000"}, e.w())
	var dup *records.DuplicateError
	if !errors.As(err, &dup) || dup.ExistingID != first.ID {
		t.Fatalf("reject: %v", err)
	}
}

// TestStageGates checks the DESIGN 6a gate (报价单) and the 72 h PDF rule on update and create.
func TestStageGates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a", "stage": "proposal"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "negotiation"}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate")
	var errs spec.Errors
	errors.As(err, &errs)
	if errs[0].Message != "请上传带客户名称的正式报价单" {
		t.Fatalf("gate message %q", errs[0].Message)
	}
	// creating directly in the gated stage is checked too
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "b", "stage": "negotiation"}, e.w())
	fieldErr(t, err, "stage", "stage_gate")

	msgAt := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	quote := e.file("报价单-ACME.pdf", "application/pdf", msgAt.Add(24*time.Hour))
	r, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "negotiation", "files": []any{map[string]any{"id": quote}}}, nil, e.w())
	if err != nil {
		t.Fatalf("gate with quote: %v", err)
	}
	files := r.Data["files"].([]any)
	if f := files[0].(map[string]any); f["name"] != "报价单-ACME.pdf" || f["type"] != "application/pdf" || f["uploaded_at"] == nil || f["size"] == nil {
		t.Fatalf("attachment not filled: %v", f)
	}
	// won needs the PDF within 72 h of the last customer message
	_, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "won"}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate") // no message time yet
	_, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "won", "last_customer_message_at": msgAt.Add(-72 * time.Hour).Format(time.RFC3339)}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate") // 96 h apart
	r, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "won", "last_customer_message_at": msgAt.Format(time.RFC3339)}, nil, e.w())
	if err != nil || r.Data["stage"] != "won" {
		t.Fatalf("won: %v", err)
	}
	hist, _ := e.store.History(ctx, e.app, "lead", r.ID, access.All())
	var stages []string
	for _, h := range hist {
		if h.Kind == "stage" {
			stages = append(stages, fmt.Sprint(h.Changes["stage"]))
		}
	}
	if fmt.Sprint(stages) != "[[<nil> proposal] [proposal negotiation] [negotiation won]]" {
		t.Fatalf("stage events %v", stages)
	}
	if _, err := records.CompileGate(`any(record.files, {.name contains "报价单"})`); err != nil {
		t.Fatal(err)
	}
	if _, err := records.CompileGate(`record.name +`); err == nil {
		t.Fatal("a broken gate must not compile")
	}
}

// TestUpdateConcurrencyAndHistory checks optimistic concurrency and the history of changes.
func TestUpdateConcurrencyAndHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a", "amount": 1}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	v := 1
	r2, err := e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"amount": 2}, &v, e.w())
	if err != nil || r2.Version != 2 {
		t.Fatalf("update: %v %v", r2, err)
	}
	if _, err := e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"amount": 3}, &v, e.w()); !errors.Is(err, records.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	_, err = e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"name": ""}, nil, e.w())
	fieldErr(t, err, "name", "required")
	// a no-op update does not bump the version
	r3, err := e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"amount": 2}, nil, e.w())
	if err != nil || r3.Version != 2 {
		t.Fatalf("no-op: %v %v", r3, err)
	}
	hist, err := e.store.History(ctx, e.app, "lead", r.ID, access.All())
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Kind != "updated" || fmt.Sprint(last.Changes["amount"]) != "[1 2]" || fmt.Sprint(last.Changes["double"]) != "[2 4]" {
		t.Fatalf("history %+v", hist)
	}
	stale := e.w()
	stale.IfVersion = &v // version 1; the record is at 2
	if err := e.store.Delete(ctx, e.app, "lead", r.ID, stale); !errors.Is(err, records.ErrConflict) {
		t.Fatalf("stale delete: %v", err)
	}
	current := e.w()
	current.IfVersion = &r3.Version
	if err := e.store.Delete(ctx, e.app, "lead", r.ID, current); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(ctx, e.app, "lead", r.ID, access.All()); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	hist, _ = e.store.History(ctx, e.app, "lead", r.ID, access.All())
	if hist[len(hist)-1].Kind != "deleted" {
		t.Fatalf("no deleted event: %+v", hist)
	}
}

// TestScopeAndHidden checks row scopes (outside = not found) and hidden fields on reads.
func TestScopeAndHidden(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var bob uuid.UUID
	if err := e.d.Pool.QueryRow(ctx, `INSERT INTO users (email) VALUES ('bob@example.com') RETURNING id`).Scan(&bob); err != nil {
		t.Fatal(err)
	}
	own := access.Grant{Scope: access.ScopeOwn, Owner: bob, Hidden: map[string]bool{"cost": true}}
	bobW := records.WriteOptions{Actor: access.Subject{UserID: bob}, Grant: own}
	mine, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "bob's"}, bobW)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "admin's", "cost": 5, "phone": "13800138000"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	// a duplicate outside the caller's scope is neither merged nor revealed: it waits on the
	// record for review and the caller gets a receipt
	got, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "dup", "phone": "13800138000"}, bobW)
	if err != nil || got.Receipt == nil || got.ID != uuid.Nil || got.Data != nil {
		t.Fatalf("hidden duplicate: %+v %v", got, err)
	}
	// files someone else uploaded cannot be attached
	adminFile := e.file("x.pdf", "application/pdf", time.Now())
	_, err = e.store.Update(ctx, e.app, "lead", mine.ID, map[string]any{"files": []any{map[string]any{"id": adminFile}}}, nil, bobW)
	fieldErr(t, err, "files", "not_found")
	// read-only fields may be sent unchanged, not changed
	roW := bobW
	roW.Grant.ReadOnly = map[string]bool{"name": true}
	if _, err := e.store.Update(ctx, e.app, "lead", mine.ID, map[string]any{"name": "bob's", "amount": 3}, nil, roW); err != nil {
		t.Fatalf("unchanged read-only value: %v", err)
	}
	if _, err := e.store.Update(ctx, e.app, "lead", mine.ID, map[string]any{"name": "changed"}, nil, roW); !errors.Is(err, records.ErrReadOnlyField) {
		t.Fatalf("changed read-only value: %v", err)
	}
	if _, err := e.store.Get(ctx, e.app, "lead", theirs.ID, own); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("get outside scope: %v", err)
	}
	if _, err := e.store.Update(ctx, e.app, "lead", theirs.ID, map[string]any{"name": "x"}, nil, bobW); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("update outside scope: %v", err)
	}
	if err := e.store.Delete(ctx, e.app, "lead", theirs.ID, bobW); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("delete outside scope: %v", err)
	}
	page, err := e.store.List(ctx, e.app, "lead", records.ListQuery{}, own)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != mine.ID {
		t.Fatalf("list in scope: %+v %v", page, err)
	}
	if n, err := e.store.Count(ctx, e.app, "lead", records.ListQuery{}, own); err != nil || n != 1 {
		t.Fatalf("count in scope: %d %v", n, err)
	}
	all, _ := e.store.Get(ctx, e.app, "lead", theirs.ID, access.Grant{Scope: access.ScopeAll, Hidden: map[string]bool{"cost": true}})
	if _, ok := all.Data["cost"]; ok {
		t.Fatal("hidden field returned")
	}
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Filter: json.RawMessage(`{"cost":{"eq":5}}`)}, own)
	fieldErr(t, err, "filter.cost", "unknown_field")
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Sort: "cost"}, own)
	fieldErr(t, err, "sort", "unknown_field")

	// history: a change of hidden fields only is left out (an empty event would reveal it);
	// a change of visible and hidden fields shows the visible part.
	if _, err := e.store.Update(ctx, e.app, "lead", mine.ID, map[string]any{"cost": 7}, nil, e.w()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(ctx, e.app, "lead", mine.ID, map[string]any{"cost": 8, "amount": 4}, nil, e.w()); err != nil {
		t.Fatal(err)
	}
	full, err := e.store.History(ctx, e.app, "lead", mine.ID, access.All())
	if err != nil {
		t.Fatal(err)
	}
	seen, err := e.store.History(ctx, e.app, "lead", mine.ID, own)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(full)-1 {
		t.Fatalf("history with hidden cost: %d events of %d, want one left out: %+v", len(seen), len(full), seen)
	}
	for _, ev := range seen {
		if _, ok := ev.Changes["cost"]; ok || (ev.Kind == "updated" && len(ev.Changes) == 0) {
			t.Fatalf("hidden change visible in history: %+v", ev)
		}
	}
	if last := seen[len(seen)-1]; fmt.Sprint(last.Changes["amount"]) != "[3 4]" {
		t.Fatalf("visible part of a mixed change: %+v", last)
	}
}

// TestListPagination checks filter, q, sort and stable cursor pagination.
func TestListPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		vals := map[string]any{"name": fmt.Sprintf("客户 %02d", i)}
		if i%3 != 0 {
			vals["amount"] = float64(i % 5) // ties and NULLs
		}
		if _, err := e.store.Create(ctx, e.app, "lead", vals, e.w()); err != nil {
			t.Fatal(err)
		}
	}
	for _, sortSpec := range []string{"", "-amount", "amount,-name", "name"} {
		seen := map[uuid.UUID]bool{}
		cursor := ""
		pages := 0
		for {
			p, err := e.store.List(ctx, e.app, "lead", records.ListQuery{Sort: sortSpec, Limit: 7, Cursor: cursor}, access.All())
			if err != nil {
				t.Fatalf("sort %q: %v", sortSpec, err)
			}
			for _, r := range p.Items {
				if seen[r.ID] {
					t.Fatalf("sort %q: %s twice", sortSpec, r.ID)
				}
				seen[r.ID] = true
			}
			pages++
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		if len(seen) != 25 || pages != 4 {
			t.Fatalf("sort %q: %d records in %d pages", sortSpec, len(seen), pages)
		}
	}
	p, err := e.store.List(ctx, e.app, "lead", records.ListQuery{Sort: "name", Q: "户 0"}, access.All())
	if err != nil || len(p.Items) != 10 || p.Items[0].Data["name"] != "客户 00" {
		t.Fatalf("q: %d %v", len(p.Items), err)
	}
	p, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Filter: json.RawMessage(`{"amount":{"gte":3}}`)}, access.All())
	if err != nil || len(p.Items) != 6 {
		t.Fatalf("filter: %d %v", len(p.Items), err)
	}
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Cursor: "garbage"}, access.All())
	fieldErr(t, err, "cursor", "invalid")
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Q: "100%_"}, access.All())
	if err != nil {
		t.Fatal(err)
	}
	// A phone number is found however the search writes it (stored as +8613911112222).
	if _, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "电话客户", "phone": "139 1111 2222"}, e.w()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"139 1111 2222", "139-1111-2222", "(139) 1111", "+86 139 1111 2222", "13911112222", "1111 2222"} {
		p, err := e.store.List(ctx, e.app, "lead", records.ListQuery{Q: q}, access.All())
		if err != nil || len(p.Items) != 1 || p.Items[0].Data["name"] != "电话客户" {
			t.Fatalf("q %q: %d records, %v", q, len(p.Items), err)
		}
	}
	if p, err := e.store.List(ctx, e.app, "lead", records.ListQuery{Q: "139 9999"}, access.All()); err != nil || len(p.Items) != 0 {
		t.Fatalf("q for another number: %d records, %v", len(p.Items), err)
	}
	// a tampered cursor whose value does not fit the sort key is a 422, not an internal error
	h := sha256.Sum256([]byte("amount"))
	forged, _ := json.Marshal(map[string]any{"s": hex.EncodeToString(h[:6]), "v": []any{"not a number"}, "i": uuid.New()})
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Sort: "amount", Cursor: base64.RawURLEncoding.EncodeToString(forged)}, access.All())
	fieldErr(t, err, "filter", "invalid_value")
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Filter: json.RawMessage(`{"name":{"contains":"a\u0000"}}`)}, access.All())
	fieldErr(t, err, "filter.name.contains", "invalid_value")
	_, err = e.store.List(ctx, e.app, "lead", records.ListQuery{Filter: json.RawMessage(`{"amount":{"gt":1e999}}`)}, access.All())
	fieldErr(t, err, "filter.amount.gt", "invalid_value")
	_, err = e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a\x00b"}, e.w())
	fieldErr(t, err, "name", "invalid_value")
}

// TestHooksInTransaction checks hooks see the change and that a failing hook rolls back.
func TestHooksInTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var got []string
	fail := false
	e.store.OnChange(func(ctx context.Context, tx pgx.Tx, c events.Change) error {
		got = append(got, c.Kind+":"+c.ToStage+":"+c.Form)
		if fail {
			return errors.New("boom")
		}
		return nil
	})
	w := e.w()
	w.Form = "web-lead"
	r, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a"}, w)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[created::web-lead form.submitted::web-lead]" {
		t.Fatalf("hooks %v", got)
	}
	// a repeated submission merges and is still reported as a form submission
	got = nil
	if _, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "a", "phone": "13800138000"}, e.w()); err != nil {
		t.Fatal(err)
	}
	got = nil
	m, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "again", "phone": "13800138000"}, w)
	if err != nil || !m.Merged {
		t.Fatalf("merge: %v %v", m, err)
	}
	if fmt.Sprint(got) != "[merged::web-lead form.submitted::web-lead]" {
		t.Fatalf("merge hooks %v", got)
	}
	got = nil
	if _, err := e.store.Update(ctx, e.app, "lead", r.ID, map[string]any{"stage": "proposal"}, nil, e.w()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[updated:: stage:proposal:]" {
		t.Fatalf("hooks %v", got)
	}
	fail = true
	if _, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "rolled back"}, e.w()); err == nil {
		t.Fatal("hook error must fail the write")
	}
	var n int
	_ = e.d.Pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE data->>'name' = 'rolled back'`).Scan(&n)
	if n != 0 {
		t.Fatal("record committed despite the failing hook")
	}
	fail = false
	// joining a caller's transaction: rolled back with it
	tx, err := e.d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w = e.w()
	w.Tx = tx
	if _, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "in tx"}, w); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	_ = e.d.Pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE data->>'name' = 'in tx'`).Scan(&n)
	if n != 0 {
		t.Fatal("record committed outside the caller's transaction")
	}
}

// FuzzValidate checks that no input value panics the validator: every value normalises or
// yields field errors.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"name":"张三","phone":"138 0013 8000"}`, `{"amount":"1e400"}`, `{"tags":[1,{"a":2}]}`,
		`{"files":[{"id":null}]}`, `{"last_customer_message_at":"2026-02-30T25:00:00Z"}`, `{"email":"a@b.c"}`, `{"stage":["x"]}`, `{"phone":"+999999999999999999999999999999999"}`} {
		f.Add(s)
	}
	v, err := spec.Decode(spec.KindEntity, []byte(leadEntity))
	if err != nil {
		f.Fatal(err)
	}
	ent := v.(*spec.Entity)
	f.Fuzz(func(t *testing.T, raw string) {
		var values map[string]any
		dec := json.NewDecoder(bytesReader(raw))
		dec.UseNumber()
		if dec.Decode(&values) != nil {
			return
		}
		out, errs := records.ValidateValues(ent, values, map[string]bool{"cost": true})
		if len(errs) == 0 {
			if _, err := json.Marshal(out); err != nil {
				t.Fatalf("normalised values do not encode: %v", err)
			}
		}
	})
}

// TestReferencesAutonumberAndStrictStages checks user/team/relation existence, race-free
// autonumbers and strict / forbidden stage transitions.
func TestReferencesAutonumberAndStrictStages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "deal", `{"slug":"deal","fields":[
		{"key":"title","type":"text"},{"key":"lead","type":"relation","target":"lead"},
		{"key":"rep","type":"user"},{"key":"team","type":"team"},{"key":"no","type":"autonumber","prefix":"D","precision":6},
		{"key":"stage","type":"select","options":["open","won","lost"]}],
		"stages":{"field":"stage","order":["open","won","lost"],"strict":true,"transitions":[
			{"from":"open","to":"won"},{"from":"open","to":"lost"},{"from":"lost","to":"*","allow":false,"message":"lost deals stay lost"}]}}`)
	lead, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "l"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	missing := uuid.NewString()
	_, err = e.store.Create(ctx, e.app, "deal", map[string]any{"lead": missing}, e.w())
	fieldErr(t, err, "lead", "not_found")
	_, err = e.store.Create(ctx, e.app, "deal", map[string]any{"rep": missing}, e.w())
	fieldErr(t, err, "rep", "not_found")
	_, err = e.store.Create(ctx, e.app, "deal", map[string]any{"team": missing}, e.w())
	fieldErr(t, err, "team", "not_found")
	// a relation must point at the target entity
	other, err := e.store.Create(ctx, e.app, "deal", map[string]any{"title": "x"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Create(ctx, e.app, "deal", map[string]any{"lead": other.ID.String()}, e.w())
	fieldErr(t, err, "lead", "not_found")
	d, err := e.store.Create(ctx, e.app, "deal", map[string]any{"lead": lead.ID.String(), "rep": e.admin.UserID.String()}, e.w())
	if err != nil || d.Data["stage"] != "open" {
		t.Fatalf("deal: %v %v", d, err)
	}

	// strict: open -> won allowed; lost -> anything forbidden; won -> open not listed
	if _, err := e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "lost"}, nil, e.w()); err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "open"}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate")

	// concurrent creates get distinct, gap-free numbers
	var wg sync.WaitGroup
	var mu sync.Mutex
	nos := map[string]bool{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.store.Create(ctx, e.app, "deal", map[string]any{"title": "c"}, e.w())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			nos[r.Data["no"].(string)] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(nos) != 8 || !nos["D000003"] || !nos["D000010"] {
		t.Fatalf("autonumbers %v", nos)
	}
}

// TestGateCountsRelatedRecords checks a gate that needs a related record (S4: the contract
// stage requires an approved legal review).
func TestGateCountsRelatedRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "review", `{"slug":"review","fields":[{"key":"deal","type":"text"},{"key":"result","type":"select","options":["approved","rejected"]}]}`)
	e.publish(spec.KindEntity, "deal", `{"slug":"deal","fields":[{"key":"stage","type":"select","options":["open","contract"]}],
		"stages":{"field":"stage","order":["open","contract"],"transitions":[{"from":"*","to":"contract",
		"require":"countRecords(\"review\", {\"deal\": record.id, \"result\": \"approved\"}) > 0","message":"需要法务审核通过"}]}}`)
	d, err := e.store.Create(ctx, e.app, "deal", map[string]any{}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "contract"}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate")
	if _, err := e.store.Create(ctx, e.app, "review", map[string]any{"deal": d.ID.String(), "result": "rejected"}, e.w()); err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "contract"}, nil, e.w())
	fieldErr(t, err, "stage", "stage_gate")
	if _, err := e.store.Create(ctx, e.app, "review", map[string]any{"deal": d.ID.String(), "result": "approved"}, e.w()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(ctx, e.app, "deal", d.ID, map[string]any{"stage": "contract"}, nil, e.w()); err != nil {
		t.Fatalf("gate with an approved review: %v", err)
	}
}

// TestListUsesExpressionIndexes checks on 20 000 rows that a list filtered and sorted by
// indexed fields is planned on the partial expression indexes ProvisionIndexes created.
func TestListUsesExpressionIndexes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	body := `{"slug":"big","fields":[{"key":"amount","type":"money","indexed":true},{"key":"due","type":"date","indexed":true},{"key":"name","type":"text"}]}`
	e.publish(spec.KindEntity, "big", body)
	v, _ := spec.Decode(spec.KindEntity, []byte(body))
	ent := v.(*spec.Entity)
	tx, err := e.d.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := records.ProvisionIndexes(ctx, tx, e.app, ent); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO records (app_id, entity, data) SELECT $1, 'big', jsonb_build_object('amount', g, 'due', to_char(date '2026-01-01' + (g % 365), 'YYYY-MM-DD'), 'name', 'n' || g)
		FROM generate_series(1, 20000) g`, e.app.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	var sql string
	var args []any
	records.TraceQueries(e.store, func(s string, a []any) { sql, args = s, a })
	cases := []struct {
		name, filter, sort, index string
	}{
		{"range on money", `{"amount":{"between":[100,120]}}`, "", "amount"},
		{"sort by money descending", ``, "-amount", "amount"},
		{"sort by money ascending", ``, "amount", "amount"},
		{"date equality", `{"due":{"eq":"2026-03-01"}}`, "", "due"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := records.ListQuery{Sort: tc.sort, Limit: 20}
			if tc.filter != "" {
				q.Filter = json.RawMessage(tc.filter)
			}
			p, err := e.store.List(ctx, e.app, "big", q, access.All())
			if err != nil || len(p.Items) == 0 {
				t.Fatalf("list: %v", err)
			}
			rows, err := e.d.Pool.Query(ctx, "EXPLAIN "+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for rows.Next() {
				var l string
				_ = rows.Scan(&l)
				lines = append(lines, l)
			}
			rows.Close()
			full := strings.Join(lines, "\n")
			if !strings.Contains(full, records.IndexName(e.app.ID, "big", ent.Field(tc.index))) {
				t.Fatalf("plan does not use the %s index:\n%s", tc.index, full)
			}
		})
	}
}

// TestAttachmentAccept checks an attachment field's accept list: MIME types, type/* and file
// extensions (as in the HTML accept attribute), and max_size.
func TestAttachmentAccept(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish(spec.KindEntity, "doc", `{"slug":"doc","fields":[
		{"key":"pdf_ext","type":"attachment","accept":[".PDF"]},
		{"key":"pdf_mime","type":"attachment","accept":["application/pdf"]},
		{"key":"image","type":"attachment","accept":["image/*"]},
		{"key":"small","type":"attachment","max_size":5}]}`)
	pdf := e.file("报价单.pdf", "application/pdf", time.Now())
	png := e.file("a.png", "image/png", time.Now())
	cases := []struct {
		field, file, code string
	}{
		{"pdf_ext", pdf, ""},
		{"pdf_ext", png, "file_type"},
		{"pdf_mime", pdf, ""},
		{"pdf_mime", png, "file_type"},
		{"image", png, ""},
		{"image", pdf, "file_type"},
		{"small", pdf, "file_size"}, // test files are 10 bytes
	}
	for _, tc := range cases {
		t.Run(tc.field+"/"+tc.file, func(t *testing.T) {
			_, err := e.store.Create(ctx, e.app, "doc", map[string]any{tc.field: []any{map[string]any{"id": tc.file}}}, e.w())
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			fieldErr(t, err, tc.field, tc.code)
		})
	}
}
