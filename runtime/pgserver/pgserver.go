// Package pgserver runs a private PostgreSQL cluster from the system's binaries under a data dir.
//
// It is what `tessera serve` uses when DATABASE_URL is unset, and what tests use for a throwaway
// cluster. The cluster listens only on a Unix socket inside its own directory (no TCP port, so no
// clashes), trusts that socket (the directory is private to the cluster's OS user) and, when the
// caller is root, runs as a dedicated OS user because initdb refuses to run as root.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// InstallHint is the command that installs the PostgreSQL server binaries on Debian.
const InstallHint = "apt-get update && apt-get install -y postgresql"

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	Dir     string // cluster data directory (PGDATA)
	SockDir string // directory holding the Unix socket
	binDir  string
	cred    *syscall.Credential
	cmd     *exec.Cmd
	done    chan error
	// attached: another process started the cluster; Stop leaves it running.
	attached bool
}

// FindBinDir locates the directory with initdb, pg_ctl and postgres. It honours
// TESSERA_PG_BIN, then PATH, then /usr/lib/postgresql/<newest>/bin.
func FindBinDir() (string, error) {
	if d := os.Getenv("TESSERA_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
		return "", fmt.Errorf("TESSERA_PG_BIN=%s has no initdb", d)
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	best, bestVer := "", -1
	for _, m := range matches {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m))))
		if err == nil && v > bestVer {
			best, bestVer = filepath.Dir(m), v
		}
	}
	if best != "" {
		return best, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found; install them with: %s, or set DATABASE_URL", InstallHint)
}

// osUserFor returns the credential to run PostgreSQL under: nil when not root, otherwise the
// "postgres" user (created by the Debian package) or a "tessera" user it creates.
func osUserFor() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "tessera"} {
		if u, err := user.Lookup(name); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "tessera").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("creating OS user tessera for PostgreSQL: %v: %s", err, out)
	}
	return osUserFor()
}

// Start initialises (first time) and starts a cluster in dir, waiting until it accepts
// connections. A second Start on the same dir reuses the data.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	binDir, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving data dir: %w", err)
	}
	cred, err := osUserFor()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: filepath.Join(dir, "pgdata"), SockDir: filepath.Join(dir, "pgsock"), binDir: binDir, cred: cred}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	_ = os.Chmod(dir, 0o755) // the cluster's OS user must traverse it
	if cred != nil {
		if err := ensureTraversable(filepath.Dir(dir), cred); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{c.Dir, c.SockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
		if cred != nil {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("chown %s: %w", d, err)
			}
		}
	}
	if len(filepath.Join(c.SockDir, ".s.PGSQL.5432")) > 100 {
		return nil, fmt.Errorf("data dir path %s is too long for a Unix socket; use a shorter TESSERA_DATA_DIR", dir)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.run(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
			// Older initdb or missing locale: retry with C locale.
			if err2 := c.run(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err2 != nil {
				return nil, fmt.Errorf("initdb: %w", err2)
			}
		}
	}
	if pid := c.runningPID(); pid != 0 {
		// Another process (a serving tessera, say) runs this cluster: use it and leave it
		// running. Removing its postmaster.pid would make that server shut down.
		return c.attach(ctx, pid)
	}
	_ = os.Remove(filepath.Join(c.Dir, "postmaster.pid")) // stale after a crash
	c.cmd = exec.Command(filepath.Join(binDir, "postgres"), "-D", c.Dir,
		"-c", "listen_addresses=", "-c", "unix_socket_directories="+c.SockDir,
		"-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "fsync=on",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning")
	c.cmd.Dir = dir
	logFile, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening postgres.log: %w", err)
	}
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	sock := filepath.Join(c.SockDir, ".s.PGSQL.5432")
	for {
		if _, err := os.Stat(sock); err == nil {
			if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); err == nil {
				if c.ready(ctx) {
					return c, nil
				}
			}
		}
		select {
		case err := <-c.done:
			tail, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("postgres exited during start: %v; log: %s", err, lastLines(string(tail), 10))
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, errors.New("postgres did not become ready within 60s; see postgres.log in the data dir")
		}
	}
}

// Attached reports whether the cluster was already running when Start was called (Stop then
// leaves it running).
func (c *Cluster) Attached() bool { return c.attached }

// runningPID is the PID of the postmaster that postmaster.pid names when that process still
// runs PostgreSQL, else 0 (no file, or a stale one left by a crash).
func (c *Cluster) runningPID() int {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return 0
	}
	return pid
}

// attach waits until the already running postmaster pid accepts connections on the cluster's
// socket and returns the cluster without owning it.
func (c *Cluster) attach(ctx context.Context, pid int) (*Cluster, error) {
	c.attached = true
	sock := filepath.Join(c.SockDir, ".s.PGSQL.5432")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil && c.ready(ctx) {
			slog.Info("using the private PostgreSQL already running on the data dir", "dir", c.Dir, "pid", pid)
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("a PostgreSQL server (pid %d) holds %s but does not accept connections on %s; stop it or wait for it to finish starting", pid, c.Dir, c.SockDir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ensureTraversable makes every ancestor of dir searchable by the cluster's OS user (a checkout
// under /root is 0700): it adds a search-only ACL entry for that user, or, without setfacl,
// the others' search bit (not read: directory listings stay private).
func ensureTraversable(dir string, cred *syscall.Credential) error {
	for d := dir; ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err != nil {
			return fmt.Errorf("checking %s: %w", d, err)
		}
		ok := st.Mode&0o001 != 0 || (st.Uid == cred.Uid && st.Mode&0o100 != 0) || (st.Gid == cred.Gid && st.Mode&0o010 != 0)
		if !ok {
			granted := false
			if p, err := exec.LookPath("setfacl"); err == nil {
				granted = exec.Command(p, "-m", fmt.Sprintf("u:%d:x", cred.Uid), d).Run() == nil
			}
			if !granted {
				if err := os.Chmod(d, os.FileMode(st.Mode&0o7777)|0o001); err != nil {
					return fmt.Errorf("the PostgreSQL user cannot reach the data dir through %s and granting search permission failed: %w; use a TESSERA_DATA_DIR outside it", d, err)
				}
			}
			slog.Warn("granted the PostgreSQL OS user search permission on a parent of the data dir", "dir", d)
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

func (c *Cluster) ready(ctx context.Context) bool {
	isready := filepath.Join(c.binDir, "pg_isready")
	if _, err := os.Stat(isready); err != nil {
		return true
	}
	return exec.CommandContext(ctx, isready, "-h", c.SockDir, "-U", "postgres", "-q").Run() == nil
}

func (c *Cluster) run(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, bin), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", bin, err, lastLines(string(out), 10))
	}
	return nil
}

// DSN returns a connection string for database name db.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=%s sslmode=disable", c.SockDir, db)
}

// URL returns a postgres:// URL for database name db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&sslmode=disable", db, c.SockDir)
}

// Stop shuts the cluster down (fast mode) and waits for it to exit; a second Stop, or Stop of
// an attached cluster, does nothing.
func (c *Cluster) Stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
