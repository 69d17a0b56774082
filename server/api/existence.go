package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/server/auth"
)

// No existence leaks: whatever a caller may not read answers exactly like something that does
// not exist. An app is readable by platform admins and by anyone holding a role in it; every
// route under /api/v1/apps/{app} answers a missing app and an app the caller cannot open with
// the same 404 (before looking at what the path names inside it), and a run of an unreadable
// flow answers 404 to every action on it.

// readableApp loads the app slug for p and answers notFound both when it does not exist and
// when p may not read it.
func (s *Server) readableApp(ctx context.Context, p *auth.Principal, slug string, notFound error) (*defs.App, error) {
	app, err := s.Defs.App(ctx, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.canOpenApp(ctx, p, app)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	return app, nil
}

// canOpenApp reports whether p may read the app itself (any role in it, or a platform admin).
func (s *Server) canOpenApp(ctx context.Context, p *auth.Principal, app *defs.App) (bool, error) {
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "app", "read")
	if err != nil {
		return false, fmt.Errorf("checking permission: %w", err)
	}
	return g.Allowed(), nil
}
