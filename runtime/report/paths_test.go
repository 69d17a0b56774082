package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/report"
)

// TestStagePathsMatchEvents: random stage histories written through the records service
// (which keeps each record's stage path in the statement that changes the stage, and the
// stage stays through their trigger) answer every stage report exactly as the stage events in
// record_events do, and rebuilding the paths from the events (publish, migration) gives the
// paths the service kept.
func TestStagePathsMatchEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// The stage stays carry office and channel from the start, so the dwell reports by office
	// read them, kept by their trigger through every write of the records service below.
	f.provisionStays(t, stayEntity)
	clock := hours(0)
	store := records.New(f.Pool, defs.New(f.Pool), records.Options{FilesDir: t.TempDir(), Now: func() time.Time { return clock }})
	rng := rand.New(rand.NewPCG(42, 7))
	tick := func() { clock = clock.Add(time.Duration(1+rng.IntN(40*60)) * time.Minute) }
	users := []struct {
		id   uuid.UUID
		team uuid.UUID
	}{{f.Alice, f.TeamA}, {f.Bob, f.TeamB}}
	stages := []string{"new", "contacted", "proposal", "won", "lost"}
	channels := []string{"web", "sem", "expo"}
	offices := []string{"北京", "上海"}
	var ids []uuid.UUID
	for i := 0; i < 150; i++ {
		u := users[rng.IntN(2)]
		team := u.team
		w := records.WriteOptions{Actor: access.Subject{UserID: u.id, TeamID: &team}, Grant: access.All()}
		if len(ids) == 0 || rng.IntN(3) == 0 {
			vals := map[string]any{"name": "客户", "channel": channels[rng.IntN(3)], "office": offices[rng.IntN(2)]}
			if rng.IntN(8) > 0 { // some records start without a stage
				vals["stage"] = stages[rng.IntN(2)]
			}
			rec, err := store.Create(ctx, f.App, "lead", vals, w)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			ids = append(ids, rec.ID)
		} else {
			id := ids[rng.IntN(len(ids))]
			patch := map[string]any{}
			switch n := rng.IntN(10); {
			case n < 6: // move to any stage: forward, back, skip, repeat, off the order
				patch["stage"] = stages[rng.IntN(len(stages))]
			case n < 7:
				patch["stage"] = nil // cleared
			case n < 8:
				if err := store.Delete(ctx, f.App, "lead", id, w); err != nil && !isNotFound(err) {
					t.Fatalf("delete: %v", err)
				}
				continue
			default:
				patch["amount"] = float64(rng.IntN(1000))
			}
			if _, err := store.Update(ctx, f.App, "lead", id, patch, nil, w); err != nil && !isNotFound(err) {
				t.Fatalf("update: %v", err)
			}
		}
		tick()
	}
	now := clock.Add(10 * time.Hour)

	reports := []string{
		`{"slug":"r","entity":"lead","kind":"funnel"}`,
		`{"slug":"r","entity":"lead","kind":"funnel","dimensions":[{"field":"channel"},{"field":"owner_id"}]}`,
		`{"slug":"r","entity":"lead","kind":"funnel","params":{"stages":["new","proposal","won"]}}`,
		`{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"office"}]}`,
		`{"slug":"r","entity":"lead","kind":"dwell","dimensions":[{"field":"channel"}],"params":{"include_open":true,"stuck":3}}`,
		`{"slug":"r","entity":"lead","kind":"penetration","params":{"from_stage":"new","to_stage":"proposal","hours":48}}`,
		`{"slug":"r","entity":"lead","kind":"penetration","dimensions":[{"field":"office"}],"params":{"from_stage":"contacted","to_stage":"won","hours":200}}`,
		`{"slug":"r","entity":"lead","kind":"cycle","dimensions":[{"field":"channel"}],"params":{"to_stage":"won"}}`,
		`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":1}}`,
		`{"slug":"r","entity":"lead","kind":"stagnation","params":{"days":2,"stage":"contacted"}}`,
	}
	grants := map[string]access.Grant{"all": access.All(), "own": {Scope: access.ScopeOwn, Owner: f.Alice}}
	check := func(label string) {
		t.Helper()
		for _, js := range reports {
			for gname, g := range grants {
				var out [2]*report.Result
				for i, fromEvents := range []bool{false, true} {
					res, err := f.Engine.Run(ctx, f.App, mustReport(t, js), report.Params{Now: now, FromEvents: fromEvents}, g)
					if err != nil {
						t.Fatalf("%s %s (events=%v): %v", js, gname, fromEvents, err)
					}
					out[i] = res
				}
				if !sameRows(out[0].Rows, out[1].Rows) {
					t.Errorf("%s: %s as %s\npaths  %s\nevents %s", label, js, gname, rowsJSON(t, out[0]), rowsJSON(t, out[1]))
				}
			}
		}
	}
	check("paths kept by the records service")
	if q, err := f.Engine.Prepare(ctx, f.App, mustReport(t, reports[3]), report.Params{Now: now}, access.All()); err != nil || !strings.Contains(q.SQL, "stage_stays") {
		t.Fatalf("the dwell report by office does not read the stage stays (%v)", err)
	}

	// Rebuilding from the events gives the same paths.
	type path struct {
		P []*string
		I []time.Time
	}
	read := func() map[uuid.UUID]path {
		rows, err := f.Pool.Query(ctx, `SELECT id, stage_path, stage_in FROM records WHERE app_id = $1 ORDER BY id`, f.App.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[uuid.UUID]path{}
		for rows.Next() {
			var id uuid.UUID
			var p path
			if err := rows.Scan(&id, &p.P, &p.I); err != nil {
				t.Fatal(err)
			}
			out[id] = p
		}
		return out
	}
	kept := read()
	if _, err := f.Pool.Exec(ctx, `SELECT tessera_build_stage_paths($1, 'lead', 'stage')`, f.App.ID); err != nil {
		t.Fatal(err)
	}
	rebuilt := read()
	for id, k := range kept {
		r := rebuilt[id]
		a, _ := json.Marshal(k)
		b, _ := json.Marshal(r)
		if string(a) != string(b) && !(len(k.P) == 0 && len(r.P) == 0) {
			t.Errorf("record %s: kept path %s, rebuilt %s", id, a, b)
		}
	}
	check("paths rebuilt from the events")
}

func isNotFound(err error) bool {
	return errors.Is(err, records.ErrNotFound)
}

// sameRows compares report rows, numbers within rounding noise.
func sameRows(a, b [][]any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			x, xok := a[i][j].(float64)
			y, yok := b[i][j].(float64)
			if xok && yok {
				if math.Abs(x-y) > 0.011 {
					return false
				}
				continue
			}
			ja, _ := json.Marshal(a[i][j])
			jb, _ := json.Marshal(b[i][j])
			if string(ja) != string(jb) {
				return false
			}
		}
	}
	return true
}
