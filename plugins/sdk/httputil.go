package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MaxReply is the largest answer PostJSON reads.
const MaxReply = 4 << 20

// PostJSON sends body as JSON to url with the env's client and returns the answer's body.
// Network errors are retryable and name only the URL's scheme and host (RedactSecretURL);
// non-2xx answers become StatusError (5xx/429 retryable).
// op names the step in errors (e.g. "dingtalk send").
func (e Env) PostJSON(ctx context.Context, op, url string, body any, headers map[string]string) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: encoding body: %w", op, err))
	}
	return e.Post(ctx, op, url, "application/json; charset=utf-8", b, headers)
}

// Post sends raw bytes with the given content type; see PostJSON.
func (e Env) Post(ctx context.Context, op, url, contentType string, body []byte, headers map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: building request: %w", op, err))
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Tessera/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.Client().Do(req)
	if err != nil {
		return nil, Temporary(fmt.Errorf("%s: %s: %w", op, RedactSecretURL(req.URL), StripURL(err)))
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	if err != nil {
		return nil, Temporary(fmt.Errorf("%s: reading answer: %w", op, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return reply, StatusError(op, resp.StatusCode, string(reply))
	}
	return reply, nil
}

// SameOrigin reports whether a and b have the same origin: scheme, host and port (default ports
// made explicit). Credentials stay with their origin across redirects.
func SameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// RedactURL formats u without user info and query (webhook URLs carry tokens there), for
// logs and error messages.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	c.Fragment = ""
	return c.String()
}

// RedactSecretURL formats u as its scheme and host only ("https://hooks.slack.com/…"): the
// URL of a robot or incoming webhook is a secret as a whole (Slack, Feishu and WeCom carry the
// token in the path), so errors and logs about it must not repeat its path or query. Post and
// PostJSON format their network errors with it.
func RedactSecretURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host}
	if u.Path != "" || u.RawQuery != "" || u.Opaque != "" {
		return c.String() + "/…"
	}
	return c.String()
}

// StripURL returns the cause of a *url.Error (whose text repeats the full URL, tokens
// included); other errors are returned as they are.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
