package api

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/ui"
)

// Security headers every response carries unless its handler set its own (the public form page
// keeps its nonce-based policy, which lets other sites embed it).
const (
	// apiCSP is for everything that is not a page (JSON, file downloads): nothing may run.
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
	hsts   = "max-age=31536000; includeSubDomains"
)

// pageCSP is the single-page app's policy: scripts only from the server itself (plus the hashes
// of any inline script index.html has; Vite's build has none), styles also inline (antd and
// CodeMirror inject style elements and attributes at run time), nothing from other origins, no
// framing.
func pageCSP(scriptHashes []string) string {
	script := "'self'"
	for _, h := range scriptHashes {
		script += " 'sha256-" + h + "'"
	}
	return "default-src 'self'; script-src " + script + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
		"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

var inlineScript = regexp.MustCompile(`(?s)<script\b([^>]*)>(.*?)</script>`)

// indexScriptHashes answers the base64 SHA-256 of every inline script of the built index.html.
func indexScriptHashes() []string {
	index, err := fs.ReadFile(ui.Dist, "dist/index.html")
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range inlineScript.FindAllSubmatch(index, -1) {
		if strings.Contains(string(m[1]), "src=") || len(m[2]) == 0 {
			continue
		}
		sum := sha256.Sum256(m[2])
		out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return out
}

// securityHeaders adds, after the handler ran (so errors get them too), a Content-Security-Policy
// (pages: pageCSP; API and files: apiCSP), X-Content-Type-Options: nosniff, X-Frame-Options: DENY
// (when the policy forbids framing), Referrer-Policy: strict-origin-when-cross-origin and, with
// TESSERA_SECURE_COOKIES=1 (served over TLS), Strict-Transport-Security. A header the handler set
// is kept.
func securityHeaders(secure bool) fiber.Handler {
	page := pageCSP(indexScriptHashes())
	return func(c *fiber.Ctx) error {
		err := c.Next()
		h := &c.Response().Header
		setDefault := func(k, v string) {
			if len(h.Peek(k)) == 0 {
				h.Set(k, v)
			}
		}
		p := c.Path()
		csp := page
		if p == "/api" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") || p == "/metrics" || p == "/healthz" || p == "/readyz" {
			csp = apiCSP
		}
		setDefault("Content-Security-Policy", csp)
		if strings.Contains(string(h.Peek("Content-Security-Policy")), "frame-ancestors 'none'") {
			setDefault("X-Frame-Options", "DENY")
		}
		setDefault("X-Content-Type-Options", "nosniff")
		setDefault("Referrer-Policy", "strict-origin-when-cross-origin")
		if secure {
			setDefault("Strict-Transport-Security", hsts)
		}
		return err
	}
}
