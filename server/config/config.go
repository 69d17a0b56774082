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
	// TrustedProxies (TESSERA_TRUSTED_PROXIES): comma-separated IPs or CIDRs of reverse proxies
	// whose X-Forwarded-For names the client (login limits, audit rows, form limits).
	TrustedProxies string
	PublicURL      string
	LogLevel       string
}

// FromEnv reads the configuration.
func FromEnv() Config {
	c := Config{
		Addr:           env("TESSERA_ADDR", ":8080"),
		DatabaseURL:    os.Getenv("DATABASE_URL"),
		DataDir:        env("TESSERA_DATA_DIR", "./data"),
		AdminEmail:     os.Getenv("TESSERA_ADMIN_EMAIL"),
		AdminPassword:  os.Getenv("TESSERA_ADMIN_PASSWORD"),
		SecretKey:      os.Getenv("TESSERA_SECRET_KEY"),
		PluginsDir:     os.Getenv("TESSERA_PLUGINS_DIR"),
		Role:           env("TESSERA_ROLE", "all"),
		SessionTTL:     14 * 24 * time.Hour,
		MaxUpload:      int64(envInt("TESSERA_MAX_UPLOAD_MB", 25)) << 20,
		MaxBody:        envInt("TESSERA_MAX_BODY_KB", 1024) << 10,
		SecureCookies:  os.Getenv("TESSERA_SECURE_COOKIES") == "1",
		TrustedProxies: os.Getenv("TESSERA_TRUSTED_PROXIES"),
		PublicURL:      os.Getenv("TESSERA_PUBLIC_URL"),
		LogLevel:       env("TESSERA_LOG_LEVEL", "info"),
	}
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
