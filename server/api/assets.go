package api

import (
	"io/fs"
	"mime"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/server/problem"
)

// uiAsset is one file of the UI build with its precompressed copies (the build writes
// name.br and name.gz next to every text asset, see ui/vite.config.ts).
type uiAsset struct {
	raw, br, gz []byte
	contentType string
}

// assetHandler serves the UI's hashed assets (dist/assets/*) from memory: immutable caching,
// and the brotli or gzip copy when the request's Accept-Encoding allows it (Vary: Accept-Encoding).
// An unknown asset is a 404, never the single-page app's index.html (a stale tab after an
// upgrade must not run HTML as a script).
func assetHandler(dist fs.FS) fiber.Handler {
	assets := map[string]*uiAsset{}
	_ = fs.WalkDir(dist, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".br") || strings.HasSuffix(p, ".gz") {
			return nil
		}
		raw, err := fs.ReadFile(dist, p)
		if err != nil {
			return nil
		}
		a := &uiAsset{raw: raw, contentType: mime.TypeByExtension(path.Ext(p))}
		if a.contentType == "" {
			a.contentType = fiber.MIMEOctetStream
		}
		a.br, _ = fs.ReadFile(dist, p+".br")
		a.gz, _ = fs.ReadFile(dist, p+".gz")
		assets["/"+p] = a
		return nil
	})
	return func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			return c.Next()
		}
		a := assets[c.Path()]
		if a == nil {
			return problem.NotFound("no asset " + c.Path() + " (资源不存在)")
		}
		c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderContentType, a.contentType)
		c.Set("X-Content-Type-Options", "nosniff")
		body := a.raw
		switch negotiateEncoding(c.Get(fiber.HeaderAcceptEncoding), a.br != nil, a.gz != nil) {
		case "br":
			c.Set(fiber.HeaderContentEncoding, "br")
			body = a.br
		case "gzip":
			c.Set(fiber.HeaderContentEncoding, "gzip")
			body = a.gz
		}
		return c.Send(body)
	}
}

// negotiateEncoding picks br or gzip (or "" for identity) from an Accept-Encoding header
// (RFC 9110 section 12.5.3): the highest q-value wins, br before gzip on a tie, q=0 refuses,
// and "*" stands for every coding not named.
func negotiateEncoding(header string, haveBR, haveGzip bool) string {
	q := map[string]float64{}
	star := -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		weight := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					weight = f
				}
			}
		}
		if name == "*" {
			star = weight
		} else {
			q[name] = weight
		}
	}
	weight := func(name string) float64 {
		if w, ok := q[name]; ok {
			return w
		}
		if name == "gzip" {
			if w, ok := q["x-gzip"]; ok {
				return w
			}
		}
		return star
	}
	best, bestQ := "", 0.0
	if haveBR && weight("br") > bestQ {
		best, bestQ = "br", weight("br")
	}
	if haveGzip && weight("gzip") > bestQ {
		best = "gzip"
	}
	return best
}
