package records_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/events"
	"github.com/tessera/tessera/runtime/records"
)

// TestSetOwner: a record handed to a rep gets the rep as owner and the rep's team, one event
// and one updated hook; unknown or disabled users are a 422 and records outside the caller's
// scope are not found, with nothing written.
func TestSetOwner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var team, rep, off uuid.UUID
	pool := e.d.Pool
	if err := pool.QueryRow(ctx, `INSERT INTO teams (name) VALUES ('华东') RETURNING id`).Scan(&team); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, team_id) VALUES ('rep@x.cn', 'Rep', $1) RETURNING id`, team).Scan(&rep); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, name, disabled) VALUES ('off@x.cn', 'Off', true) RETURNING id`).Scan(&off); err != nil {
		t.Fatal(err)
	}
	var fired []events.Change
	e.store.OnChange(func(_ context.Context, _ pgx.Tx, c events.Change) error {
		fired = append(fired, c)
		return nil
	})
	rec, err := e.store.Create(ctx, e.app, "lead", map[string]any{"name": "张三"}, e.w())
	if err != nil {
		t.Fatal(err)
	}
	fired = nil
	events0 := countEvents(t, e, rec.ID)

	got, err := e.store.SetOwner(ctx, e.app, "lead", rec.ID, rep, e.w())
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerID == nil || *got.OwnerID != rep || got.TeamID == nil || *got.TeamID != team || got.Version != rec.Version+1 {
		t.Fatalf("after SetOwner: owner %v team %v version %d", got.OwnerID, got.TeamID, got.Version)
	}
	if len(fired) != 1 || fired[0].Kind != events.Updated || len(fired[0].Changed) != 2 || fired[0].Changed[0] != "owner_id" {
		t.Fatalf("hooks fired: %+v", fired)
	}
	if n := countEvents(t, e, rec.ID); n != events0+1 {
		t.Fatalf("events: %d, want %d", n, events0+1)
	}
	// The rep now sees the record in their own scope.
	own := records.WriteOptions{Actor: access.Subject{UserID: rep}, Grant: access.Grant{Scope: access.ScopeOwn, Owner: rep}}
	if _, err := e.store.SetOwner(ctx, e.app, "lead", rec.ID, rep, own); err != nil {
		t.Fatalf("the rep handing their own record to themselves: %v", err)
	}
	if n := countEvents(t, e, rec.ID); n != events0+1 {
		t.Fatalf("handing a record to its owner wrote an event (%d events)", n)
	}

	cases := []struct {
		name  string
		owner uuid.UUID
		w     records.WriteOptions
		check func(error) bool
	}{
		{"unknown user", uuid.New(), e.w(), func(err error) bool { return isFieldErr(err, "owner_id", "unknown_user") }},
		{"disabled user", off, e.w(), func(err error) bool { return isFieldErr(err, "owner_id", "unknown_user") }},
		{"outside the caller's scope", e.admin.UserID, records.WriteOptions{Actor: access.Subject{UserID: off}, Grant: access.Grant{Scope: access.ScopeOwn, Owner: off}},
			func(err error) bool { return errors.Is(err, records.ErrNotFound) }},
		{"no access", e.admin.UserID, records.WriteOptions{Actor: access.Subject{UserID: off}, Grant: access.Grant{Scope: access.ScopeNone}},
			func(err error) bool { return errors.Is(err, records.ErrForbidden) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := e.store.SetOwner(ctx, e.app, "lead", rec.ID, c.owner, c.w); !c.check(err) {
				t.Fatalf("got %v", err)
			}
			var owner uuid.UUID
			if err := pool.QueryRow(ctx, `SELECT owner_id FROM records WHERE id = $1`, rec.ID).Scan(&owner); err != nil || owner != rep {
				t.Fatalf("owner changed to %s (%v)", owner, err)
			}
		})
	}
}

func isFieldErr(err error, field, code string) bool {
	var errs spec.Errors
	if !errors.As(err, &errs) {
		return false
	}
	for _, fe := range errs {
		if fe.Field == field && fe.Code == code {
			return true
		}
	}
	return false
}

func countEvents(t *testing.T, e *env, id uuid.UUID) int {
	t.Helper()
	var n int
	if err := e.d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM record_events WHERE record_id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
