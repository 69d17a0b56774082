package ai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tessera/tessera/plugins/sdk"
)

// maxAnswer bounds the bytes read from one answer.
const maxAnswer = 8 << 20

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// request is the chat-completions request body.
type request struct {
	Model          string         `json:"model"`
	Messages       []message      `json:"messages"`
	Temperature    *float64       `json:"temperature,omitempty"`
	MaxTokens      int            `json:"max_tokens,omitempty"`
	Stream         bool           `json:"stream,omitempty"`
	StreamOptions  map[string]any `json:"stream_options,omitempty"`
	ResponseFormat map[string]any `json:"response_format,omitempty"`
}

// Usage is the token count of one answer.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
	// Estimated is true when the provider sent no usage and it was estimated from the text.
	Estimated bool `json:"estimated,omitempty"`
}

// answer is what a call returns.
type answer struct {
	Text         string
	Model        string
	FinishReason string
	Usage        Usage
	Attempts     int
}

type callOptions struct {
	timeout time.Duration
	retries int
}

// sleep waits d or until ctx ends; tests replace it to record the waits.
var sleep = func(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxRetryAfter caps a Retry-After the provider asks for.
const maxRetryAfter = 60 * time.Second

// backoff is the wait before retry n (0-based) without a Retry-After: 0.5 s doubling, up to
// 8 s, with up to 25 % jitter.
func backoff(n int) time.Duration {
	d := time.Duration(float64(500*time.Millisecond) * math.Pow(2, float64(n)))
	d = min(d, 8*time.Second)
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); ok is false when absent.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// call sends the request to the credential's endpoint, retrying 408/425/429/5xx answers and
// network errors with backoff (Retry-After respected), and parses a JSON or streamed answer.
func call(ctx context.Context, env sdk.Env, s settings, req request, o callOptions) (*answer, error) {
	req.Model = s.model
	if req.Stream {
		req.StreamOptions = map[string]any{"include_usage": true}
	}
	if err := noSecrets(env, req.Messages); err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("encoding the request: %w", err))
	}
	var last error
	for attempt := 0; attempt <= o.retries; attempt++ {
		a, wait, err := once(ctx, env, s, body, req.Stream, o.timeout)
		if err == nil {
			a.Attempts = attempt + 1
			if a.Model == "" {
				a.Model = s.model
			}
			if a.Usage.TotalTokens == 0 && a.Usage.PromptTokens == 0 && a.Usage.CompletionTokens == 0 {
				a.Usage = estimateUsage(req.Messages, a.Text)
			}
			return a, nil
		}
		last = err
		if !sdk.IsRetryable(err) || attempt == o.retries || ctx.Err() != nil {
			break
		}
		if wait < 0 {
			wait = backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break // the run's deadline comes first: fail now rather than sleep past it
		}
		env.Log().Info("ai: retrying", "attempt", attempt+1, "wait", wait.String(), "error", err.Error())
		if err := sleep(ctx, wait); err != nil {
			return nil, sdk.Temporary(fmt.Errorf("ai: %w", err))
		}
	}
	return nil, last
}

// once makes one request; wait is the Retry-After of a retryable answer (-1 when none).
func once(ctx context.Context, env sdk.Env, s settings, body []byte, stream bool, timeout time.Duration) (*answer, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, -1, sdk.Permanent(fmt.Errorf("building the request: %w", err))
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "Tessera/1")
	if stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	if s.key != "" {
		hr.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := env.Client().Do(hr)
	if err != nil {
		if errors.Is(err, sdk.ErrNoNetwork) {
			return nil, -1, sdk.Permanent(err)
		}
		msg := sdk.StripURL(err).Error()
		if ctx.Err() == context.DeadlineExceeded {
			msg = fmt.Sprintf("no answer within %s / 模型在 %s 内未响应", timeout, timeout)
		}
		return nil, -1, sdk.Temporary(fmt.Errorf("calling %s: %s", sdk.RedactURL(hr.URL), msg))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		err := sdk.StatusError("ai chat", resp.StatusCode, string(excerpt))
		wait := time.Duration(-1)
		if d, ok := retryAfter(resp.Header, env.Time()); ok {
			wait = d
		}
		return nil, wait, err
	}
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	var a *answer
	if strings.HasPrefix(ct, "text/event-stream") {
		a, err = readStream(resp.Body)
	} else {
		a, err = readJSON(resp.Body)
	}
	if err != nil {
		return nil, -1, err
	}
	return a, -1, nil
}

type choice struct {
	Message struct {
		Content string `json:"content"`
	} `json:"message"`
	Delta struct {
		Content string `json:"content"`
	} `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type completion struct {
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   *Usage   `json:"usage"`
	Error   *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func malformed(detail string) error {
	return sdk.Permanent(fmt.Errorf("the model's answer is malformed (%s) / 模型的回答格式有误（%s）", detail, detail))
}

func readJSON(r io.Reader) (*answer, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxAnswer))
	if err != nil {
		return nil, sdk.Temporary(fmt.Errorf("reading the answer: %w", err))
	}
	var c completion
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, malformed("not chat-completions JSON")
	}
	if c.Error != nil {
		return nil, sdk.Permanent(fmt.Errorf("the model refused: %s / 模型返回错误：%s", c.Error.Message, c.Error.Message))
	}
	if len(c.Choices) == 0 {
		return nil, malformed("no choices")
	}
	a := &answer{Text: c.Choices[0].Message.Content, Model: c.Model}
	if c.Choices[0].FinishReason != nil {
		a.FinishReason = *c.Choices[0].FinishReason
	}
	if c.Usage != nil {
		a.Usage = *c.Usage
	}
	return a, nil
}

// readStream reads server-sent events of chat-completion chunks until [DONE].
func readStream(r io.Reader) (*answer, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxAnswer))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var text strings.Builder
	a := &answer{}
	done, chunks := false, 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data:") {
			continue // comments, event names, blank separators
		}
		data := strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		if data == "[DONE]" {
			done = true
			break
		}
		var c completion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return nil, malformed("a streamed chunk is not JSON")
		}
		if c.Error != nil {
			return nil, sdk.Permanent(fmt.Errorf("the model refused: %s / 模型返回错误：%s", c.Error.Message, c.Error.Message))
		}
		chunks++
		if c.Model != "" {
			a.Model = c.Model
		}
		for _, ch := range c.Choices[:min(len(c.Choices), 1)] {
			text.WriteString(ch.Delta.Content)
			text.WriteString(ch.Message.Content)
			if ch.FinishReason != nil {
				a.FinishReason = *ch.FinishReason
			}
		}
		if c.Usage != nil {
			a.Usage = *c.Usage
		}
	}
	if err := sc.Err(); err != nil {
		return nil, sdk.Temporary(fmt.Errorf("reading the streamed answer: %w", err))
	}
	if !done && a.FinishReason == "" {
		return nil, sdk.Temporary(errors.New("the streamed answer ended early / 流式回答意外中断"))
	}
	if chunks == 0 {
		return nil, malformed("an empty stream")
	}
	a.Text = text.String()
	return a, nil
}

// estimateUsage guesses token counts when the provider sent none: one token per CJK character,
// one per four other characters.
func estimateUsage(msgs []message, out string) Usage {
	count := func(s string) int {
		n, other := 0, 0
		for _, r := range s {
			if unicode.Is(unicode.Han, r) {
				n++
			} else {
				other++
			}
		}
		return n + (other+3)/4
	}
	in := 0
	for _, m := range msgs {
		in += count(m.Content) + 4
	}
	o := count(out)
	return Usage{PromptTokens: in, CompletionTokens: o, TotalTokens: in + o, Estimated: true}
}

// Cost is the estimated price of an answer.
type Cost struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency,omitempty"`
	// Priced is false when the model has no entry in the price table (amount 0).
	Priced bool `json:"priced"`
}

func costOf(s settings, model string, u Usage) Cost {
	p, ok := s.prices[model]
	if !ok {
		p, ok = s.prices[s.model]
	}
	if !ok {
		return Cost{}
	}
	amt := (float64(u.PromptTokens)*p.Input + float64(u.CompletionTokens)*p.Output) / 1e6
	return Cost{Amount: math.Round(amt*1e6) / 1e6, Currency: p.Currency, Priced: true}
}

// noSecrets refuses to send a prompt that contains a credential value (a template that pulled a
// key into a prompt by mistake).
func noSecrets(env sdk.Env, msgs []message) error {
	for k, v := range env.Credentials {
		if len(v) < 8 || k == "provider" || k == "base_url" || k == "model" || k == "prices" {
			continue
		}
		for _, m := range msgs {
			if strings.Contains(m.Content, v) {
				return sdk.Permanent(fmt.Errorf("the prompt contains the credential's %s; it is never sent to a model / 提示词包含凭据的 %s，不会发送给模型", k, k))
			}
		}
	}
	return nil
}

// base is the output every operation shares: model, usage, cost and attempts.
func base(s settings, a *answer) map[string]any {
	return map[string]any{"model": a.Model, "usage": a.Usage, "cost": costOf(s, a.Model, a.Usage), "attempts": a.Attempts, "finish_reason": a.FinishReason}
}

// options reads the common parameters.
func options(p map[string]any) (request, callOptions) {
	t := sdk.Number(p, "temperature")
	r := request{Temperature: &t, MaxTokens: int(sdk.Number(p, "max_tokens")), Stream: sdk.Bool(p, "stream")}
	timeout := time.Duration(sdk.Number(p, "timeout") * float64(time.Second))
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return r, callOptions{timeout: timeout, retries: int(sdk.Number(p, "retries"))}
}
