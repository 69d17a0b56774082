// Package config reads the server's settings from the environment.
package config

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Config holds every setting of a Tessera process.
type Config struct {
	Addr          string // TESSERA_ADDR, default :8080
	DatabaseURL   string // DATABASE_URL; empty starts a private cluster under DataDir
	DataDir       string // TESSERA_DATA_DIR, default ./data
	AdminEmail    string // TESSERA_ADMIN_EMAIL
	AdminPassword string // TESSERA_ADMIN_PASSWORD
	SecretKey     string // TESSERA_SECRET_KEY (base64 32 bytes); else a key file in DataDir
	PluginsDir    string // TESSERA_PLUGINS_DIR
	Role          string // all | api | worker
	SessionTTL    time.Duration
	MaxUpload     int64 // bytes per uploaded file
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
	// TrustedProxies (TESSERA_TRUSTED_PROXIES): comma-separated IPs or CIDRs of reverse proxies
	// whose X-Forwarded-For names the client (login limits, audit rows, form limits).
	TrustedProxies string
}

// FromEnv reads the configuration.
func FromEnv() Config {
	c := Config{
		Addr:          env("TESSERA_ADDR", ":8080"),
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		DataDir:       env("TESSERA_DATA_DIR", "./data"),
		AdminEmail:    os.Getenv("TESSERA_ADMIN_EMAIL"),
		AdminPassword: os.Getenv("TESSERA_ADMIN_PASSWORD"),
		SecretKey:     os.Getenv("TESSERA_SECRET_KEY"),
		PluginsDir:    os.Getenv("TESSERA_PLUGINS_DIR"),
		Role:          env("TESSERA_ROLE", "all"),
		SessionTTL:    14 * 24 * time.Hour,
		MaxUpload:     int64(envInt("TESSERA_MAX_UPLOAD_MB", 25)) << 20,
		MaxBody:       envInt("TESSERA_MAX_BODY_KB", 1024) << 10,
		SecureCookies: os.Getenv("TESSERA_SECURE_COOKIES") == "1",
		PublicURL:     os.Getenv("TESSERA_PUBLIC_URL"),
		LogLevel:      env("TESSERA_LOG_LEVEL", "info"),
		WebhookRate:   envFloat("TESSERA_WEBHOOK_RATE", 20),
		WebhookBurst:  envInt("TESSERA_WEBHOOK_BURST", 40),
		AppRate:       envFloat("TESSERA_APP_RATE", 100),
		AppBurst:      envInt("TESSERA_APP_BURST", 200),
		FlowWorkers:   envInt("TESSERA_FLOW_WORKERS", 10),
	}
	c.AppConcurrency = envCount("TESSERA_APP_CONCURRENCY", max(1, c.FlowWorkers/2))
	c.TrustedProxies = os.Getenv("TESSERA_TRUSTED_PROXIES")
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	return c
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

// envFloat reads a non-negative number (0 turns a limit off).
func envFloat(k string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil && v >= 0 {
		return v
	}
	return def
}

// envCount reads a non-negative integer (0 turns a cap off).
func envCount(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v >= 0 {
		return v
	}
	return def
}
