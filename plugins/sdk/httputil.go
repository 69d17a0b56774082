package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// MaxReply is the largest answer PostJSON reads.
const MaxReply = 4 << 20

// PostJSON sends body as JSON to url with the env's client and returns the answer's body.
// Network errors are retryable; non-2xx answers become StatusError (5xx/429 retryable).
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
		return nil, Temporary(fmt.Errorf("%s: %w", op, err))
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
