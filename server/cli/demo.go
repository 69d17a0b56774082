package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/runtime/authz"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/demo"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/config"
)

const demoUsage = `Usage: tessera demo seed <app> [flags]

Fills an installed app with demo data: three sales teams with a manager and six members each
(who cannot log in), and months of consistent records with stage histories, so that its lists,
reports and dashboards show data. It writes to the database of DATABASE_URL, or to the private
PostgreSQL under TESSERA_DATA_DIR (a running server's cluster is shared). Install the app first,
e.g. the sales template from the template gallery.

Example: tessera demo seed sales --leads 50000

Flags:
`

func demoCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "seed" {
		fmt.Fprint(os.Stderr, demoUsage)
		return errors.New("usage: tessera demo seed <app> [--leads N]")
	}
	fs := flag.NewFlagSet("demo seed", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	count := fs.Int("leads", 2000, "records of the app's main entity (lead when it has one)")
	entity := fs.String("entity", "", "the main entity (default: lead, else the first entity)")
	months := fs.Int("months", 6, "months of history")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same data)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoUsage); fs.PrintDefaults() }
	rest := args[1:]
	var app string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		app, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if app == "" && fs.NArg() > 0 {
		app = fs.Arg(0)
	}
	if app == "" {
		fs.Usage()
		return errors.New("name the app to fill, e.g. tessera demo seed sales")
	}
	cfg := config.FromEnv()
	log := newLogger(cfg.LogLevel)
	d, closeDB, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := migrations.Up(ctx, d.SQL); err != nil {
		return err
	}
	az, err := authz.New(ctx, d.Pool, d.Gorm, log)
	if err != nil {
		return fmt.Errorf("starting authorizer: %w", err)
	}
	defer az.Close()
	loader := defs.New(d.Pool)
	deps := demo.Deps{Pool: d.Pool, Loader: loader, Records: records.New(d.Pool, loader, records.Options{}), Authz: az}
	start := time.Now()
	sum, err := demo.Seed(ctx, deps, app, demo.Options{Primary: *entity, Count: *count, Months: *months, Seed: *seed,
		Progress: func(step string, done, total int) {
			fmt.Printf("  [%d/%d] %-12s %6.1fs\n", done, total, step, time.Since(start).Seconds())
		}})
	if errors.Is(err, defs.ErrNotFound) {
		return fmt.Errorf("no app %q here: install it first (template gallery, or POST /api/v1/templates/%s/install)", app, app)
	}
	if err != nil {
		return err
	}
	total := 0
	for _, n := range sum.Records {
		total += n
	}
	fmt.Printf("demo data for %s: %d teams, %d people, %d records %v in %.1fs\n", sum.App, sum.Teams, sum.People, total, sum.Records, sum.Duration.Seconds())
	return nil
}
