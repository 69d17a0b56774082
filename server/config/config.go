// Package config reads the server's settings from the environment.
package config

import (
	"path/filepath"
	"time"
)

// Config holds every setting of a Tessera process.
type Config struct {
	Addr          string // TESSERA_ADDR, default 127.0.0.1:8080
	DatabaseURL   string // DATABASE_URL; empty starts a private cluster under DataDir
	DataDir       string // TESSERA_DATA_DIR, default ./data
	AdminEmail    string // TESSERA_ADMIN_EMAIL
	AdminPassword string // TESSERA_ADMIN_PASSWORD
	SecretKey     string // TESSERA_SECRET_KEY (base64 32 bytes); else a key file in DataDir
	PluginsDir    string // TESSERA_PLUGINS_DIR
	Role          string // all | api | worker
	SessionTTL    time.Duration
	MaxUpload     int64 // bytes per uploaded file
	MaxImport     int64 // bytes per record import (streamed, never held whole)
	MaxBody       int   // bytes per JSON request body
	SecureCookies bool  // TESSERA_SECURE_COOKIES=1 behind TLS
	PublicURL     string
	LogLevel      string
	// Intake rate limits (per replica): TESSERA_WEBHOOK_RATE/_BURST per webhook key,
	// TESSERA_APP_RATE/_BURST per app for webhooks and manual runs (events per second; 0 = off).
	WebhookRate  float64
	WebhookBurst int
	AppRate      float64
	AppBurst     int
	// FlowWorkers is the number of runs a worker process works at once (TESSERA_FLOW_WORKERS);
	// AppConcurrency caps one app's share of them (TESSERA_APP_CONCURRENCY; 0 = no cap).
	FlowWorkers    int
	AppConcurrency int
	// SandboxWorkers is the number of script sandbox processes of a worker process
	// (TESSERA_SANDBOX_WORKERS).
	SandboxWorkers int
	// RunBacklog is the queued work (in seconds) over which intake answers 429
	// (TESSERA_RUN_BACKLOG_SECONDS; 0 = off).
	RunBacklog time.Duration
	// AutoIndexes caps the automatic expression indexes per app (TESSERA_AUTO_INDEXES; 0 =
	// off); one unused for AutoIndexUnused is dropped (TESSERA_AUTO_INDEX_UNUSED_DAYS).
	AutoIndexes     int
	AutoIndexUnused time.Duration
	// TrustedProxies (TESSERA_TRUSTED_PROXIES): comma-separated IPs or CIDRs of reverse proxies
	// whose X-Forwarded-For names the client (login limits, audit rows, form limits).
	TrustedProxies string
	// SMTP is the platform's default e-mail credential (TESSERA_SMTP_*): the email connector
	// uses it in flows whose connector step names no credential, or names one the app does not
	// have. Host empty = none.
	SMTP SMTP
	// ReadTimeout bounds the reading of a request (headers and an ordinary body, from its
	// first byte); a streamed import's body is read with it as the wait for each next chunk,
	// however long the whole body takes. 0: 60 s (server/api).
	ReadTimeout time.Duration
	// MaxImportDuration bounds the time a streamed import's body may take to arrive, from the
	// request's start (408 past it, nothing imported): the import's transaction and its locks
	// last no longer. 0: 30 minutes (server/api).
	MaxImportDuration time.Duration
	// ShowRunningAfter is how long a queued run worked in one transaction goes before it is
	// marked running on its own (engine.Options.ShowRunningAfter; tests only, 0: the default).
	ShowRunningAfter time.Duration
	// Clock is the server's clock for flows, timers and cron (tests only: a simulated clock,
	// see server/apitest.Clock); nil is time.Now.
	Clock func() time.Time
}

// SMTP is the platform's default SMTP server (config vars TESSERA_SMTP_*).
type SMTP struct {
	Host, Port, Security, Username, Password, From, FromName string
}

// Values answers the settings as email connector credential values (nil when no host is set).
func (m SMTP) Values() map[string]string {
	if m.Host == "" {
		return nil
	}
	v := map[string]string{"host": m.Host, "port": m.Port, "security": m.Security, "from": m.From}
	if m.Username != "" {
		v["username"], v["password"] = m.Username, m.Password
	}
	if m.FromName != "" {
		v["from_name"] = m.FromName
	}
	return v
}

// FromEnv reads the configuration (every variable is described in Vars).
func FromEnv() Config {
	c := Config{
		Addr:           Get("TESSERA_ADDR"),
		DatabaseURL:    Get("DATABASE_URL"),
		DataDir:        Get("TESSERA_DATA_DIR"),
		AdminEmail:     Get("TESSERA_ADMIN_EMAIL"),
		AdminPassword:  Get("TESSERA_ADMIN_PASSWORD"),
		SecretKey:      Get("TESSERA_SECRET_KEY"),
		PluginsDir:     Get("TESSERA_PLUGINS_DIR"),
		Role:           Get("TESSERA_ROLE"),
		SessionTTL:     14 * 24 * time.Hour,
		MaxUpload:      int64(GetInt("TESSERA_MAX_UPLOAD_MB")) << 20,
		MaxImport:      int64(GetInt("TESSERA_MAX_IMPORT_MB")) << 20,
		MaxBody:        GetInt("TESSERA_MAX_BODY_KB") << 10,
		SecureCookies:  Get("TESSERA_SECURE_COOKIES") == "1",
		PublicURL:      Get("TESSERA_PUBLIC_URL"),
		LogLevel:       Get("TESSERA_LOG_LEVEL"),
		WebhookRate:    GetFloat("TESSERA_WEBHOOK_RATE"),
		WebhookBurst:   GetInt("TESSERA_WEBHOOK_BURST"),
		AppRate:        GetFloat("TESSERA_APP_RATE"),
		AppBurst:       GetInt("TESSERA_APP_BURST"),
		FlowWorkers:    GetInt("TESSERA_FLOW_WORKERS"),
		SandboxWorkers: GetInt("TESSERA_SANDBOX_WORKERS"),
	}
	c.AppConcurrency = GetCount("TESSERA_APP_CONCURRENCY", max(1, c.FlowWorkers/2))
	c.RunBacklog = time.Duration(GetInt("TESSERA_RUN_BACKLOG_SECONDS")) * time.Second
	c.AutoIndexes = GetCount("TESSERA_AUTO_INDEXES", 16)
	c.AutoIndexUnused = time.Duration(GetInt("TESSERA_AUTO_INDEX_UNUSED_DAYS")) * 24 * time.Hour
	c.TrustedProxies = Get("TESSERA_TRUSTED_PROXIES")
	c.SMTP = SMTP{Host: Get("TESSERA_SMTP_HOST"), Port: Get("TESSERA_SMTP_PORT"), Security: Get("TESSERA_SMTP_SECURITY"),
		Username: Get("TESSERA_SMTP_USERNAME"), Password: Get("TESSERA_SMTP_PASSWORD"), From: Get("TESSERA_SMTP_FROM"),
		FromName: Get("TESSERA_SMTP_FROM_NAME")}
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c
}
