package api

import (
	"context"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/server/auth"
)

// Services holds the runtime services shared between route files. Add a field here when a
// runtime package is ready, and construct it in initServices (keep edits small: several people
// work on this file).
type Services struct {
	Defs  *defs.Loader
	Authz Authorizer
	// Store keeps apps and definition drafts/versions (builder/store).
	Store *store.Store
	// AfterImport runs after an app bundle (import or template) committed, e.g. to seed records.
	AfterImport func(ctx context.Context, p *auth.Principal, app *store.App, b *store.Bundle) error
}

// Authorizer answers permission questions. Resources are "entity:<slug>", "form:<slug>",
// "flow:<slug>", "report:<slug>", "dashboard:<slug>", "app" (settings and definitions);
// actions are read, create, update, delete, export, run, publish, manage.
type Authorizer interface {
	// Grant returns the caller's row scope and field rules for action on resource in app;
	// Grant.Allowed() is false when the action is denied.
	Grant(ctx context.Context, sub access.Subject, appID uuid.UUID, resource, action string) (access.Grant, error)
}

// initServices constructs the runtime services from the server's config and database.
func (s *Server) initServices() error {
	s.Defs = defs.New(s.DB.Pool)
	s.Store = store.New(s.DB.Pool, store.Hooks{})
	s.Authz = adminOrOwn{}
	return nil
}

// adminOrOwn is the fallback authorizer until runtime/authz is wired: platform admins may do
// everything, everyone else only reads and writes their own records.
type adminOrOwn struct{}

func (adminOrOwn) Grant(_ context.Context, sub access.Subject, _ uuid.UUID, resource, action string) (access.Grant, error) {
	if sub.IsAdmin || sub.System {
		return access.All(), nil
	}
	if len(resource) > 7 && resource[:7] == "entity:" && (action == "read" || action == "create" || action == "update" || action == "delete") {
		return access.Grant{Scope: access.ScopeOwn, Owner: sub.UserID}, nil
	}
	return access.Grant{Scope: access.ScopeNone}, nil
}
