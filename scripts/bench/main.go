// Command bench prints Tessera's performance figures (`make bench`).
//
// It starts a private PostgreSQL cluster in a temp dir (or uses DATABASE_URL), migrates a fresh
// database and runs every registered section in order. Sections live in their own files in this
// directory and register themselves with register(); run one with -only=<name>.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/tessera/tessera/migrations"
	"github.com/tessera/tessera/runtime/db"
	"github.com/tessera/tessera/runtime/pgserver"
)

// section is one named group of measurements.
type section struct {
	Name  string
	Order int // sections run in ascending order, then by name
	// Optional sections run only when -only names them.
	Optional bool
	Run      func(ctx context.Context, env *env) error
}

var sections []section

// register adds a section; call it from an init function in the section's file.
func register(s section) { sections = append(sections, s) }

// env is what sections get: the database and the harness flags.
type env struct {
	DB      *db.DB
	Records int    // records to generate (-records)
	Iters   int    // timed iterations per query (-iters)
	Pools   string // pool sizes the pool section compares (-pools)
}

func main() {
	only := flag.String("only", "", "comma-separated section names to run (default: all)")
	records := flag.Int("records", 1_000_000, "records to generate for data-heavy sections")
	iters := flag.Int("iters", 7, "timed iterations per measured query")
	pools := flag.String("pools", "8,20,40", "comma-separated pool sizes the pool section compares")
	dir := flag.String("dir", "", "cluster data dir to use (and keep); default: a temp dir removed at exit")
	migrate := flag.Bool("migrate", true, "apply migrations before running (false: the schema exists)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	mutexProfile := flag.String("mutexprofile", "", "write a mutex contention profile of the whole run to this file (where goroutines waited on locks)")
	flag.Parse()
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(5)
		defer func() {
			if f, err := os.Create(*mutexProfile); err == nil {
				_ = pprof.Lookup("mutex").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *only, *records, *iters, *pools, *dir, *migrate); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, only string, records, iters int, pools, dir string, migrate bool) error {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		keep := dir != ""
		if dir == "" {
			d, err := os.MkdirTemp("", "tessera-bench-")
			if err != nil {
				return fmt.Errorf("creating temp dir: %w", err)
			}
			dir = d
		}
		if !keep {
			defer os.RemoveAll(dir)
		}
		fmt.Printf("starting a private PostgreSQL cluster in %s\n", dir)
		c, err := pgserver.Start(ctx, dir)
		if err != nil {
			return fmt.Errorf("starting cluster: %w", err)
		}
		defer c.Stop()
		dsn = c.URL("postgres")
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if migrate {
		if err := migrations.Up(ctx, d.SQL); err != nil {
			return err
		}
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	sort.SliceStable(sections, func(i, j int) bool {
		if sections[i].Order != sections[j].Order {
			return sections[i].Order < sections[j].Order
		}
		return sections[i].Name < sections[j].Name
	})
	e := &env{DB: d, Records: records, Iters: iters, Pools: pools}
	for _, s := range sections {
		if (len(want) > 0 || s.Optional) && !want[s.Name] {
			continue
		}
		fmt.Printf("\n== %s ==\n", s.Name)
		start := time.Now()
		if err := s.Run(ctx, e); err != nil {
			return fmt.Errorf("section %s: %w", s.Name, err)
		}
		fmt.Printf("(section %s took %s)\n", s.Name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
