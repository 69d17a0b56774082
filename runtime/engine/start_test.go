package engine_test

import (
	"context"
	"testing"

	"github.com/tessera/tessera/runtime/engine"
)

// TestStartWithRunAsReadsNoDefinition: a start that pins the version and gives its run_as (a
// webhook holds its flow's definition) inserts the run without reading the definition; without
// run_as the version's own is read.
func TestStartWithRunAsReadsNoDefinition(t *testing.T) {
	e := newEnv(t, false)
	v := e.publish(`{"slug":"f","trigger":{"type":"manual"},"nodes":[{"id":"s","type":"set","params":{"values":{"ok":true}}}]}`)
	ctx := context.Background()
	for _, c := range []struct{ given, want string }{
		{"", "service"},                  // read from the version (it says nothing: service)
		{"trigger_user", "trigger_user"}, // taken as given: the stored body was not read
	} {
		id, _, err := e.eng.Start(ctx, nil, engine.StartRequest{AppID: e.app, Flow: "f", Version: v, RunAs: c.given})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := e.d.Pool.QueryRow(ctx, `SELECT run_as FROM flow_runs WHERE id = $1`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Fatalf("run_as given %q: the run works as %q, want %q", c.given, got, c.want)
		}
	}
	// a flow that is not published still answers not found
	if _, _, err := e.eng.Start(ctx, nil, engine.StartRequest{AppID: e.app, Flow: "nope"}); err == nil {
		t.Fatal("starting an unpublished flow succeeded")
	}
}
