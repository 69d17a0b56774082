// Package cli implements the tessera command: serve, migrate, and the sandbox worker entry.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/pgserver"
	"github.com/tessera/tessera/server/api"
	"github.com/tessera/tessera/server/config"
)

const usageHead = `tessera: self-hosted low-code automation platform

Usage:
  tessera serve [--role=all|api|worker] [--addr=127.0.0.1:8080]
  tessera migrate up|down|status
  tessera demo seed <app> [--leads N] [--months 6]   fill an installed app (e.g. sales) with demo data
  tessera healthcheck     exit 0 when the server at TESSERA_ADDR answers /readyz (container HEALTHCHECK)
  tessera version

Environment (every setting; the README's configuration table is the same list):
`

// usage is the help text: the commands and every environment variable (config.Vars).
func usage() string { return usageHead + config.Usage() }

// Version is set at build time.
var Version = "dev"

// Subcommands registered by other packages (e.g. the sandbox worker) run before the usual ones.
var Subcommands = map[string]func(args []string) int{}

// Main runs the command line and returns the exit code.
func Main(args []string) int {
	if len(args) < 2 {
		fmt.Fprint(os.Stderr, usage())
		return 2
	}
	if f, ok := Subcommands[args[1]]; ok {
		return f(args[2:])
	}
	switch args[1] {
	case "serve":
		return run(serve, args[2:])
	case "migrate":
		return run(migrate, args[2:])
	case "demo":
		return run(demoCmd, args[2:])
	case "version":
		fmt.Println(Version)
		return 0
	case "healthcheck":
		return healthcheck(config.FromEnv().Addr)
	case "help", "-h", "--help":
		fmt.Print(usage())
		return 0
	default:
		fmt.Fprintf(os.Stderr, "tessera: unknown command %q\n\n%s", args[1], usage())
		return 2
	}
}

func run(f func(context.Context, []string) error, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f(ctx, args); err != nil && !errors.Is(err, context.Canceled) {
		if errors.Is(err, flag.ErrHelp) { // --help asked for the usage, which was printed
			return 0
		}
		fmt.Fprintln(os.Stderr, "tessera:", err)
		return 1
	}
	return 0
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// openDatabase connects to DATABASE_URL, or starts the private cluster. The returned stop
// function closes the pool and stops the cluster.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*db.DB, func(), error) {
	dsn := cfg.DatabaseURL
	var cluster *pgserver.Cluster
	if dsn == "" {
		log.Info("DATABASE_URL is unset: starting a private PostgreSQL", "dir", cfg.DataDir)
		c, err := pgserver.Start(ctx, cfg.DataDir)
		if err != nil {
			return nil, nil, fmt.Errorf("starting private PostgreSQL: %w", err)
		}
		cluster = c
		if err := ensureDatabase(ctx, c, "tessera"); err != nil {
			c.Stop()
			return nil, nil, err
		}
		dsn = c.URL("tessera")
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		cluster.Stop()
		return nil, nil, err
	}
	return d, func() { d.Close(); cluster.Stop() }, nil
}

func ensureDatabase(ctx context.Context, c *pgserver.Cluster, name string) error {
	d, err := db.Open(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer d.Close()
	var exists bool
	if err := d.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("checking database %s: %w", name, err)
	}
	if !exists {
		if _, err := d.Pool.Exec(ctx, "CREATE DATABASE "+name); err != nil && !strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("creating database %s: %w", name, err)
		}
	}
	return nil
}

func serve(ctx context.Context, args []string) error {
	cfg := config.FromEnv()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.Role, "role", cfg.Role, "all | api | worker (TESSERA_ROLE)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (TESSERA_ADDR)")
	fs.SetOutput(os.Stdout) // --help is an answer, not an error
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, "Usage: tessera serve [flags]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(w, "\nEnvironment:\n"+config.Usage())
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Role != "all" && cfg.Role != "api" && cfg.Role != "worker" {
		return fmt.Errorf("--role must be all, api or worker, not %q", cfg.Role)
	}
	log := newLogger(cfg.LogLevel)
	slog.SetDefault(log)
	d, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := migrations.Up(ctx, d.SQL); err != nil {
		return err
	}
	go db.WatchPool(ctx, d.Pool, log, 5*time.Second) // logs a stalled connection pool
	srv, err := api.New(cfg, d, log)
	if err != nil {
		return err
	}
	created, err := srv.Auth.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		log.Info("created the first admin", "email", cfg.AdminEmail)
	} else if cfg.AdminEmail == "" {
		var users int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err == nil && users == 0 {
			log.Warn("no user can log in yet: start once with TESSERA_ADMIN_EMAIL and TESSERA_ADMIN_PASSWORD to create the first admin")
		}
	}
	errc := make(chan error, 1)
	go func() {
		log.Info("tessera serving", "url", localURL(cfg.Addr), "addr", cfg.Addr, "role", cfg.Role, "version", Version)
		errc <- srv.Listen(cfg.Addr)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	return srv.Shutdown(20 * time.Second)
}

func migrate(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: tessera migrate up|down|status")
	}
	cfg := config.FromEnv()
	log := newLogger(cfg.LogLevel)
	d, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	switch args[0] {
	case "up":
		return migrations.Up(ctx, d.SQL)
	case "down":
		return migrations.Down(ctx, d.SQL)
	case "status":
		return migrations.Status(ctx, d.SQL, io.Writer(os.Stdout))
	default:
		return fmt.Errorf("unknown migrate command %q: use up, down or status", args[0])
	}
}

// localURL is the address to open in a browser for a listen address such as ":8080" or
// "0.0.0.0:8080" (localhost) or "10.0.0.5:8080".
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// healthcheck asks the local server's /readyz (the image has no curl): 0 when it answers 200.
func healthcheck(addr string) int {
	u := localURL(addr)
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		u = "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(u + "/readyz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tessera healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "tessera healthcheck: %s/readyz answered %s\n", u, resp.Status)
		return 1
	}
	return 0
}
