package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Var is one environment variable Tessera reads.
type Var struct {
	Name        string
	Default     string // shown as is; "" when unset means off or empty
	Description string
}

// Vars is the one list of every environment variable any Tessera code reads (server, runtime,
// connectors, test helpers). `tessera serve --help` prints it and the README's configuration
// table is generated from it (TestREADMEConfigTable fails when they differ); TestEveryReadVarIsListed
// fails when code reads a variable missing here. To add a setting: add it here, read it with
// Get/GetInt in FromEnv (or os.Getenv in a runtime package), then run
// `go test ./server/config -run TestREADMEConfigTable -update`.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL URL (`postgres://user:pass@host/db`); unset starts a private cluster under the data dir"},
	{"TESSERA_DATA_DIR", "./data", "data directory: private cluster, uploaded files, key file"},
	{"TESSERA_ADDR", "127.0.0.1:8080", "listen address; `:8080` listens on every interface"},
	{"TESSERA_ROLE", "all", "process role: `all`, `api` (HTTP only) or `worker` (runs only); same as `serve --role`"},
	{"TESSERA_ADMIN_EMAIL", "", "first admin's email, created once on a start with no users"},
	{"TESSERA_ADMIN_PASSWORD", "", "first admin's password (with TESSERA_ADMIN_EMAIL); it must pass the password policy (docs/permissions.md) or the server does not start"},
	{"TESSERA_SECRET_KEY", "", "base64 32-byte key encrypting secrets at rest; unset: a key file in the data dir"},
	{"TESSERA_PLUGINS_DIR", "", "directory of JavaScript connector plugins"},
	{"TESSERA_NET_ALLOW_HOSTS", "", "hosts connectors may reach although private/internal: names, `*.suffixes`, IPs, CIDRs (no scheme or port), e.g. `crm.intra,10.0.0.0/8` (a local Ollama for AI steps: its host, or `127.0.0.1`); a malformed entry stops the start. Unset: outbound calls to loopback, private, link-local and metadata addresses are refused"},
	{"TESSERA_NET_ALLOW_PRIVATE", "0", "`1` allows loopback and private ranges (never cloud metadata)"},
	{"TESSERA_MAX_UPLOAD_MB", "25", "maximum size of one uploaded file, in MB"},
	{"TESSERA_MAX_IMPORT_MB", "2048", "maximum size of one record import (CSV or JSON, read as a stream: rows are written in batches, the file is never held in memory), in MB"},
	{"TESSERA_MAX_BODY_KB", "1024", "maximum size of a JSON request body (records, form submissions), in KB"},
	{"TESSERA_SECURE_COOKIES", "", "`1` marks session cookies Secure and sends `Strict-Transport-Security` (serve behind TLS)"},
	{"TESSERA_TRUSTED_PROXIES", "", "reverse proxies whose `X-Forwarded-For` names the client (login limits, audit rows, form limits): IPs or CIDRs, comma-separated, e.g. `10.0.0.0/8,127.0.0.1`; a malformed entry stops the start; unset: the header is ignored, the TCP peer is the client"},
	{"TESSERA_PUBLIC_URL", "", "the server's external base URL (e.g. `https://tessera.example.com`): e-mail tracking links and pixels (`/t/...`) point there; unset: `http://` + TESSERA_ADDR"},
	{"TESSERA_SMTP_HOST", "", "platform SMTP server: the default credential of the `email` connector for flows whose step names no credential (or one the app does not have); unset: none"},
	{"TESSERA_SMTP_PORT", "465", "platform SMTP port"},
	{"TESSERA_SMTP_SECURITY", "tls", "platform SMTP security: `tls`, `starttls` or `none` (internal relay only)"},
	{"TESSERA_SMTP_USERNAME", "", "platform SMTP user name"},
	{"TESSERA_SMTP_PASSWORD", "", "platform SMTP password"},
	{"TESSERA_SMTP_FROM", "", "platform SMTP sender address (required with TESSERA_SMTP_HOST)"},
	{"TESSERA_SMTP_FROM_NAME", "", "platform SMTP sender name"},
	{"TESSERA_LOG_LEVEL", "info", "log level: `debug`, `info`, `warn` or `error`"},
	{"TESSERA_WEBHOOK_RATE", "20", "calls per second per webhook key, per replica (over it: 429 with `Retry-After`; `0` = off)"},
	{"TESSERA_WEBHOOK_BURST", "40", "burst of calls per webhook key, per replica"},
	{"TESSERA_APP_RATE", "100", "run starts per second per app (webhooks and manual runs), per replica (`0` = off)"},
	{"TESSERA_APP_BURST", "200", "burst of run starts per app, per replica"},
	{"TESSERA_FLOW_WORKERS", "20", "runs a worker process works at once (and as many it may work inline, as it accepts them)"},
	{"TESSERA_SANDBOX_WORKERS", "4", "script sandbox processes a worker process runs flow scripts in, one script each at a time (each limited to 512 MB)"},
	{"TESSERA_RUN_BACKLOG_SECONDS", "30", "back-pressure: when the queued flow runs exceed this many seconds of work (backlog / completion rate), webhooks and manual runs answer 429 with `Retry-After` (`0` = off)"},
	{"TESSERA_APP_CONCURRENCY", "half of TESSERA_FLOW_WORKERS", "runs of one app a worker process works at once while other apps' runs wait, so one app's flood cannot hold every worker; alone, an app may use all workers but one (`0` = no cap)"},
	{"TESSERA_AUTO_INDEXES", "16", "expression indexes per app that worker processes build in the background for the fields saved views, reports and often-used list columns filter or sort by (docs/performance.md; `0` = off)"},
	{"TESSERA_AUTO_INDEX_UNUSED_DAYS", "14", "an automatic index unused (not scanned) for this many days is dropped"},
	{"TESSERA_PG_BIN", "", "directory of initdb/pg_ctl/postgres for the private cluster; unset: PATH, then the newest /usr/lib/postgresql/*/bin"},
	{"TESSERA_TEST_DATABASE_URL", "", "tests only: a PostgreSQL server (superuser URL) the Go tests create their databases on, instead of private clusters"},
	{"TESSERA_TEST_LOG", "", "tests only: `1` shows a test server's log (cron, workers, requests) on stderr"},
}

// lookupVar answers the registered variable; reading an unregistered one is a programming error.
func lookupVar(name string) Var {
	for _, v := range Vars {
		if v.Name == name {
			return v
		}
	}
	panic(fmt.Sprintf("config: %s is not in config.Vars: register it (name, default, description)", name))
}

// Get answers a registered variable's value, or its default when unset or empty.
func Get(name string) string {
	v := lookupVar(name)
	if s := os.Getenv(name); s != "" {
		return s
	}
	return v.Default
}

// GetInt answers a registered variable as a positive integer, or its default.
func GetInt(name string) int {
	if n, err := strconv.Atoi(Get(name)); err == nil && n > 0 {
		return n
	}
	n, _ := strconv.Atoi(lookupVar(name).Default)
	return n
}

// GetFloat answers a registered variable as a non-negative number (0 turns a limit off), or its default.
func GetFloat(name string) float64 {
	if f, err := strconv.ParseFloat(Get(name), 64); err == nil && f >= 0 {
		return f
	}
	f, _ := strconv.ParseFloat(lookupVar(name).Default, 64)
	return f
}

// GetCount answers a registered variable as a non-negative integer (0 turns a cap off), or def
// (for a default computed from other settings; Vars describes it).
func GetCount(name string, def int) int {
	lookupVar(name)
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// Usage is the environment section of `tessera --help`: one line per variable.
func Usage() string {
	var b strings.Builder
	width := 0
	for _, v := range Vars {
		width = max(width, len(v.Name))
	}
	for _, v := range Vars {
		d := strings.ReplaceAll(v.Description, "`", "")
		if v.Default != "" {
			d += " (default " + v.Default + ")"
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", width, v.Name, d)
	}
	return b.String()
}

// MarkdownTable is the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | meaning | default |\n|---|---|---|\n")
	for _, v := range Vars {
		def := ""
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, strings.ReplaceAll(v.Description, "|", "\\|"), def)
	}
	return b.String()
}
