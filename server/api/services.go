package api

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/tessera/tessera/builder/store"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/autoindex"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/forms"
	"github.com/tessera/tessera/runtime/jsplugins"
	"github.com/tessera/tessera/runtime/netguard"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/runtime/report"
	"github.com/tessera/tessera/runtime/secrets"
	"github.com/tessera/tessera/runtime/tracking"
	"github.com/tessera/tessera/runtime/trigger"
	"github.com/tessera/tessera/server/auth"
)

// Services holds the runtime services shared between route files. Add a field here when a
// runtime package is ready, and construct it in initServices (keep edits small: several people
// work on this file).
type Services struct {
	Defs *defs.Loader
	// ListUses counts the fields lists are filtered or sorted by (nil: auto indexes are off).
	ListUses *autoindex.ListUses
	Authz    Authorizer
	// Policies is the concrete authorizer behind Authz: roles, assignments, audited changes.
	Policies *authz.Authorizer
	// Connectors, NetGuard and Secrets: connector registry, SSRF guard, encrypted
	// credentials (built in initConnectors, catalog.go).
	Connectors *sdk.Registry
	NetGuard   *netguard.Guard
	Secrets    *secrets.Store
	// Tracking signs e-mail tracking links (derived from the secret key; activities.go).
	Tracking *tracking.Signer
	// PluginProblems lists the JavaScript connector plugins that failed to load.
	PluginProblems []jsplugins.Problem
	// Store keeps apps and definition drafts/versions (builder/store).
	Store *store.Store
	// AfterImport runs after an app bundle (import or template) committed, e.g. to seed records.
	AfterImport func(ctx context.Context, p *auth.Principal, app *store.App, b *store.Bundle) error
	// Engine runs flows (River workers by role); Triggers starts runs (flows.go, initFlows).
	Engine   *engine.Engine
	Triggers *trigger.Service
	// Reports runs report definitions (reports.go; built in mountReports when nil).
	Reports *report.Engine
	// Records reads and writes records (runtime/records; records.go, forms.go, files.go).
	Records *records.Store
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
	// published versions and apps are cached while the loader listens for their changes
	defsCtx, stopDefs := context.WithCancel(context.Background())
	go s.Defs.Listen(defsCtx, s.Log)
	// resolved tokens are cached while the auth service listens for identity changes
	go s.Auth.ListenPrincipals(defsCtx, s.Log)
	s.OnShutdown(stopDefs)
	s.Records = records.New(s.DB.Pool, s.Defs, records.Options{FilesDir: filepath.Join(s.Cfg.DataDir, "files"),
		// a dedupe hit merges only for writers whose read and update grants reach the record
		Grants: func(ctx context.Context, sub access.Subject, appID uuid.UUID, resource, action string) (access.Grant, error) {
			return s.Authz.Grant(ctx, sub, appID, resource, action)
		}})
	s.Store = store.New(s.DB.Pool, store.Hooks{})
	s.initPublishHooks()
	az, err := authz.New(context.Background(), s.DB.Pool, s.DB.Gorm, s.Log)
	if err != nil {
		return fmt.Errorf("starting authorizer: %w", err)
	}
	s.Authz, s.Policies = az, az
	s.OnShutdown(az.Close)
	if err := s.initConnectors(); err != nil {
		return err
	}
	if err := s.initFlows(); err != nil {
		return err
	}
	if s.Cfg.AutoIndexes > 0 {
		// the fields people filter or sort lists by without saving a view: counted here,
		// flushed to list_uses, where the worker's pass below finds them
		ctx, stop := context.WithCancel(context.Background())
		s.ListUses = autoindex.NewListUses()
		go s.ListUses.Run(ctx, s.DB.Pool, 30*time.Second, func(err error) { s.Log.Warn("list uses", "error", err) })
		s.OnShutdown(stop)
	}
	if s.Cfg.Role != "api" && s.Cfg.AutoIndexes > 0 {
		// indexes for the fields saved views and reports filter or sort by (one replica at a
		// time builds them, concurrently; docs/performance.md)
		ctx, stop := context.WithCancel(context.Background())
		m := autoindex.New(s.DB.Pool, autoindex.Options{MaxPerApp: s.Cfg.AutoIndexes, UnusedFor: s.Cfg.AutoIndexUnused, Log: s.Log})
		go m.Run(ctx)
		s.OnShutdown(stop)
	}
	if s.Cfg.Role != "api" {
		// files public forms received and no submission claimed within forms.UploadTTL
		ctx, stop := context.WithCancel(context.Background())
		go forms.RunUploadSweeper(ctx, s.DB.Pool, s.filesDir(), time.Hour, s.Log)
		s.OnShutdown(stop)
	}
	return nil
}

// SweepUploads removes the public-form uploads no submission claimed before cutoff (the worker
// does it hourly for those older than forms.UploadTTL); it answers how many files went.
func (s *Server) SweepUploads(ctx context.Context, cutoff time.Time) (int, error) {
	return forms.SweepUploads(ctx, s.DB.Pool, s.filesDir(), cutoff)
}
