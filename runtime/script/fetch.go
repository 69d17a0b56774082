package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tessera/tessera/plugins/sdk"
)

// MaxFetchBody bounds the answer a script's http.fetch reads.
const MaxFetchBody = 1 << 20

// Fetch answers the host API's http.fetch ({url, method, headers, body}) with client, which
// must be the SSRF-guarded one: {status, headers, body}. Errors never repeat tokens that sit
// in the URL.
func Fetch(ctx context.Context, client *http.Client, args json.RawMessage) (json.RawMessage, error) {
	if client == nil {
		return nil, errors.New("http.fetch is not available on this server")
	}
	var a struct {
		URL     string            `json:"url"`
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
		Body    *string           `json:"body"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, fmt.Errorf("http.fetch: bad arguments: %w", err)
	}
	if a.Method == "" {
		a.Method = http.MethodGet
	}
	var body io.Reader
	if a.Body != nil {
		body = strings.NewReader(*a.Body)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, a.Method, a.URL, body)
	if err != nil {
		return nil, fmt.Errorf("http.fetch: %w", sdk.StripURL(err))
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("http.fetch %s: %w", sdk.RedactURL(req.URL), sdk.StripURL(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxFetchBody+1))
	if err != nil {
		return nil, fmt.Errorf("http.fetch: reading the answer: %w", err)
	}
	if len(b) > MaxFetchBody {
		return nil, errors.New("http.fetch: the answer is larger than 1 MiB")
	}
	headers := map[string]string{}
	for k := range resp.Header {
		headers[strings.ToLower(k)] = resp.Header.Get(k)
	}
	return json.Marshal(map[string]any{"status": resp.StatusCode, "headers": headers, "body": string(b)})
}
