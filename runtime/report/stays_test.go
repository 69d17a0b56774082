package report_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
)

// stayEntity is leadEntity with office among the report_index fields, so the stage stays
// carry office and channel.
var stayEntity = strings.Replace(leadEntity, `"report_index":["stage","channel","amount"]`, `"report_index":["stage","channel","amount","office"]`, 1)

func TestStayFields(t *testing.T) {
	ent := mustEntity(t)
	if got := report.StayFields(ent); strings.Join(got, ",") != "channel" {
		t.Fatalf("lead: stay fields %v, want [channel] (stage is the stage field, amount a number)", got)
	}
	ent.ReportIndex = []string{"office", "rep", "closed", "office", "nope", "channel"}
	if got := report.StayFields(ent); strings.Join(got, ",") != "office,channel" {
		t.Fatalf("stay fields %v, want [office channel] (users, dates, unknown and repeated fields left out)", got)
	}
	ent.Stages = nil
	if got := report.StayFields(ent); len(got) != 0 {
		t.Fatalf("without stages: stay fields %v, want none", got)
	}
}

// provisionStays publishes body and runs report.ProvisionStays for it like publishing does.
func (f *fixture) provisionStays(t *testing.T, body string) int64 {
	t.Helper()
	ctx := context.Background()
	publish(t, f.Pool, f.App.ID, "entities", "lead", body)
	v, err := spec.Decode(spec.KindEntity, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := f.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	n, err := report.ProvisionStays(ctx, tx, f.App, v.(*spec.Entity))
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDwellFromStays: a dwell report by a field the stage stays carry reads them, and answers
// exactly what the stage paths and the stage events answer, before and after every kind of
// write the stays must follow; reports the stays cannot answer read the paths.
func TestDwellFromStays(t *testing.T) {
	f := newFixture(t)
	seedSales(t, f)
	ctx := context.Background()
	if n := f.provisionStays(t, stayEntity); n != 18 { // 9 finished stays x (channel, office)
		t.Fatalf("provisioning wrote %d stays, want 18", n)
	}
	if n := f.provisionStays(t, stayEntity); n != 0 {
		t.Fatalf("provisioning again rebuilt %d stays, want none (nothing changed)", n)
	}
	byOffice := `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`
	alice := access.Grant{Scope: access.ScopeOwn, Owner: f.Alice}

	// check runs rep through the engine and expects it to read the stays or not; the answer
	// must equal the one from the stage paths (Compile without stays) and from the events.
	check := func(t *testing.T, rep string, p report.Params, g access.Grant, wantStays bool) string {
		t.Helper()
		r := mustReport(t, rep)
		q, err := f.Engine.Prepare(ctx, f.App, r, p, g)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(q.SQL, "stage_stays"); got != wantStays {
			t.Fatalf("%s: reads stays %v, want %v\n%s", rep, got, wantStays, q.SQL)
		}
		got := collect(t, f, q)
		ent, _, err := defsEntity(f)
		if err != nil {
			t.Fatal(err)
		}
		pq, err := report.Compile(f.App, ent, r, p, g)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(pq.SQL, "stage_stays") {
			t.Fatal("Compile without the built stay fields must not read the stays")
		}
		paths := collect(t, f, pq)
		ep := p
		ep.FromEvents = true
		events, err := f.Engine.Run(ctx, f.App, r, ep, g)
		if err != nil {
			t.Fatal(err)
		}
		if got != paths || got != rowsJSON(t, events) {
			t.Fatalf("%s:\nstays  %s\npaths  %s\nevents %s", rep, got, paths, rowsJSON(t, events))
		}
		return got
	}

	// The hand-worked answer of TestResults ("dwell by office").
	if got := check(t, byOffice, report.Params{}, access.All(), true); got != `[["上海","new",2,15,15,20],["上海","contacted",1,100,100,100],["北京","new",3,26,20,48],["北京","contacted",2,20,20,30],["北京","proposal",1,60,60,60]]` {
		t.Fatalf("dwell by office from stays: %s", got)
	}
	cases := []struct {
		name   string
		rep    string
		params report.Params
		grant  access.Grant
		stays  bool
	}{
		{"by channel", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"channel"}]}`, report.Params{}, access.All(), true},
		{"stages narrowed, sorted by median", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}],"params":{"stages":["contacted","new"]},"sort":["-median_hours"]}`, report.Params{}, access.All(), true},
		{"created range", byOffice, report.Params{From: ptr(hours(-100)), To: ptr(hours(2))}, access.All(), true},
		{"own scope reads paths", byOffice, report.Params{}, alice, false},
		{"filter reads paths", byOffice, report.Params{Filter: []byte(`{"channel":{"in":["web"]}}`)}, access.All(), false},
		{"field not carried", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"name"}]}`, report.Params{}, access.All(), false},
		{"no dimension", `{"slug":"r","entity":"lead","kind":"dwell"}`, report.Params{}, access.All(), false},
		{"open stays", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}],"params":{"include_open":true}}`, report.Params{Now: hours(200)}, access.All(), false},
		{"range on another date", `{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}],"params":{"date_field":"updated_at"}}`, report.Params{From: ptr(hours(-100))}, access.All(), false},
	}
	runAll := func(t *testing.T) {
		t.Helper()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { check(t, c.rep, c.params, c.grant, c.stays) })
		}
	}
	runAll(t)

	// Writes the stays follow (through their trigger), each checked against paths and events.
	var a1, b1, a4 uuid.UUID
	for name, id := range map[string]*uuid.UUID{"A1": &a1, "B1": &b1, "A4": &a4} {
		if err := f.Pool.QueryRow(ctx, `SELECT id FROM records WHERE data->>'name' = $1`, name).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	writes := []struct {
		name string
		sql  string
		args []any
	}{
		{"office edited", `UPDATE records SET data = jsonb_set(data, '{office}', '"上海"') WHERE id = $1`, []any{a1}},
		{"other field edited", `UPDATE records SET data = jsonb_set(data, '{score}', '9') WHERE id = $1`, []any{a1}},
		// the statement runtime/records runs on a stage change, and its stage event
		{"stage moved", `WITH u AS (UPDATE records SET data = jsonb_set(data, '{stage}', '"proposal"'),
			stage_path = array_append(stage_path, 'proposal'), stage_in = array_append(stage_in, $2::timestamptz) WHERE id = $1 RETURNING id, app_id)
			INSERT INTO record_events (record_id, app_id, entity, at, kind, changes) SELECT id, app_id, 'lead', $2, 'stage', '{"stage":["contacted","proposal"]}' FROM u`,
			[]any{b1, hours(50)}},
		{"owner changed", `UPDATE records SET owner_id = $2 WHERE id = $1`, []any{a4, f.Bob}},
		{"soft deleted", `UPDATE records SET deleted_at = now() WHERE id = $1`, []any{a1}},
		{"restored", `UPDATE records SET deleted_at = NULL WHERE id = $1`, []any{a1}},
		{"hard deleted", `DELETE FROM records WHERE id = $1`, []any{a4}},
	}
	for _, w := range writes {
		if _, err := f.Pool.Exec(ctx, w.sql, w.args...); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		t.Run("after "+w.name, runAll)
	}
	if t.Failed() {
		return
	}

	// The entity no longer asks for report indexes: the stays go, reports read the paths.
	noIndex := strings.Replace(leadEntity, `"report_index":["stage","channel","amount"]`, `"report_index":[]`, 1)
	f.provisionStays(t, noIndex)
	var left int
	if err := f.Pool.QueryRow(ctx, `SELECT count(*) FROM stage_stays`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("stays left after dropping report_index: %d (%v)", left, err)
	}
	check(t, byOffice, report.Params{}, access.All(), false)
}

func collect(t *testing.T, f *fixture, q *report.Query) string {
	t.Helper()
	res := &report.Result{Columns: q.Columns, Rows: [][]any{}}
	if err := f.Engine.Stream(context.Background(), q, func(row []any) error {
		res.Rows = append(res.Rows, row)
		return nil
	}); err != nil {
		t.Fatalf("%v\n%s", err, q.SQL)
	}
	return rowsJSON(t, res)
}

func defsEntity(f *fixture) (*spec.Entity, int, error) {
	return defs.New(f.Pool).Entity(context.Background(), f.App.ID, "lead")
}
