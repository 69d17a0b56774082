package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/server/problem"
)

func TestNegotiateEncoding(t *testing.T) {
	cases := []struct {
		header string
		br, gz bool
		want   string
	}{
		{"gzip, deflate, br, zstd", true, true, "br"},
		{"gzip, deflate", true, true, "gzip"},
		{"", true, true, ""},
		{"identity", true, true, ""},
		{"br;q=0, gzip", true, true, "gzip"},
		{"br;q=0.5, gzip;q=0.8", true, true, "gzip"},
		{"BR", true, true, "br"},
		{"*", true, true, "br"},
		{"*;q=0", true, true, ""},
		{"gzip;q=0, *", true, true, "br"},
		{"x-gzip", false, true, "gzip"},
		{"br", false, true, ""},
		{"gzip, br", false, true, "gzip"},
		{"gzip;q=bogus", false, true, "gzip"},
	}
	for _, c := range cases {
		if got := negotiateEncoding(c.header, c.br, c.gz); got != c.want {
			t.Errorf("negotiateEncoding(%q, br=%v, gz=%v) = %q, want %q", c.header, c.br, c.gz, got, c.want)
		}
	}
}

// The UI's hashed assets are sent precompressed by negotiation, cached as immutable, and an
// unknown asset is a 404 (not the single-page app's index.html).
func TestAssetHandlerServesPrecompressedCopies(t *testing.T) {
	dist := fstest.MapFS{
		"assets/index-abc.js":    {Data: []byte("console.log('raw')")},
		"assets/index-abc.js.br": {Data: []byte("BR")},
		"assets/index-abc.js.gz": {Data: []byte("GZ")},
		"assets/small-def.css":   {Data: []byte("a{}")},
	}
	app := fiber.New(fiber.Config{ErrorHandler: problem.Handler(slog.New(slog.DiscardHandler))})
	app.Use("/assets", assetHandler(dist))
	cases := []struct {
		method, path, accept  string
		status                int
		encoding, body, ctype string
	}{
		{"GET", "/assets/index-abc.js", "gzip, deflate, br", 200, "br", "BR", "text/javascript; charset=utf-8"},
		{"GET", "/assets/index-abc.js", "gzip, deflate", 200, "gzip", "GZ", "text/javascript; charset=utf-8"},
		{"GET", "/assets/index-abc.js", "", 200, "", "console.log('raw')", "text/javascript; charset=utf-8"},
		{"GET", "/assets/small-def.css", "br, gzip", 200, "", "a{}", "text/css; charset=utf-8"},
		{"HEAD", "/assets/index-abc.js", "br", 200, "br", "", "text/javascript; charset=utf-8"},
		{"GET", "/assets/index-abc.js.br", "br", 404, "", "", ""},
		{"GET", "/assets/missing-123.js", "br", 404, "", "", ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.accept != "" {
			req.Header.Set("Accept-Encoding", c.accept)
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		name := c.method + " " + c.path + " [" + c.accept + "]"
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, c.status)
			continue
		}
		if c.status != 200 {
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type %q, want a problem", name, ct)
			}
			continue
		}
		if got := resp.Header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("%s: Content-Encoding %q, want %q", name, got, c.encoding)
		}
		if c.method == "GET" && string(body) != c.body {
			t.Errorf("%s: body %q, want %q", name, body, c.body)
		}
		if got := resp.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", name, got, c.ctype)
		}
		if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", name, got)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
	}
}
