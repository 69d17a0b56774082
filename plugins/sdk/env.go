package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Env is what the host injects into an operation run, a connection test, an options lookup
// or a poll. Connectors must reach the network only through HTTP (the host gives an
// SSRF-guarded client) or Dial, never through http.DefaultClient.
type Env struct {
	// HTTP is the client for outgoing requests; in production it refuses private and
	// loopback addresses unless an administrator allow-listed the host.
	HTTP *http.Client
	// Credentials are the decrypted values of the credential selected on the node.
	Credentials map[string]string
	// Logger receives the connector's log lines (never log secret values).
	Logger *slog.Logger
	// Now is the host clock; nil means time.Now.
	Now func() time.Time
	// IdempotencyKey is stable across retries of the same step (run id + node id); send it
	// to services that de-duplicate (Idempotency-Key header, webhook-id ...).
	IdempotencyKey string
	// Attempt counts tries of this step, starting at 1.
	Attempt int
	// AppID, RunID and NodeID identify where the operation runs (empty in tests).
	AppID, RunID, NodeID string
	// Dial opens raw TCP connections (SMTP and other non-HTTP protocols) through the same
	// guard as HTTP; nil means no raw network access.
	Dial DialFunc
	// Files reads a file the host stored (a record attachment, or a File output of an earlier
	// step, which the host replaces with {"id","name","type","size",...}) by its id, only
	// among the files of the step's app; nil means no stored files. Use Env.File.
	Files FileReader
	// Records reads the app's records and entity fields as the flow's identity (row scope and
	// field rules applied by the host); nil means no record access. Use Env.RecordReader.
	Records RecordReader
}

// FileReader reads a stored file by id.
type FileReader func(ctx context.Context, id string) (File, error)

// File reads the stored file id through env.Files; an error when the host stores no files.
func (e Env) File(ctx context.Context, id string) (File, error) {
	if e.Files == nil {
		return File{}, Permanent(fmt.Errorf("file %s: this host gives connectors no stored files / 宿主未提供文件读取", id))
	}
	return e.Files(ctx, id)
}

// Client returns env.HTTP, or a client that refuses every request when the host gave none,
// so a connector can never fall back to an unguarded client.
func (e Env) Client() *http.Client {
	if e.HTTP != nil {
		return e.HTTP
	}
	return &http.Client{Transport: refuseTransport{}}
}

// Log returns the env's logger, or one that discards.
func (e Env) Log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return discardLogger
}

// Time returns the host's current time.
func (e Env) Time() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Credential returns one credential value ("" when absent).
func (e Env) Credential(key string) string { return e.Credentials[key] }

// ErrNoNetwork is returned when the host gave no HTTP client or dialer.
var ErrNoNetwork = errors.New("sdk: the host gave this connector no network access")

type refuseTransport struct{}

func (refuseTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, ErrNoNetwork }

// Error is a connector error with a retry decision for the host's step runner.
type Error struct {
	// Retryable says the step may succeed when tried again (network error, 429, 5xx).
	Retryable bool
	// Status is the remote HTTP status when there was one.
	Status int
	Err    error
}

// Error returns the wrapped error's text.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying (bad input, 4xx answers, auth failures).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// Temporary marks err as worth retrying.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Retryable: true, Err: err}
}

// IsRetryable reports whether the host should retry after err. Errors not classified by the
// connector are treated as retryable (transient network trouble is the common case).
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	var fe FieldErrors
	if errors.As(err, &fe) {
		return false
	}
	return true
}

// StatusError builds the error for a non-2xx HTTP answer: 408, 425, 429 and 5xx are
// retryable, other statuses are permanent. body is a short excerpt of the answer.
func StatusError(op string, status int, body string) error {
	if len(body) > 512 {
		body = body[:512] + "..."
	}
	retry := status == 408 || status == 425 || status == 429 || status >= 500
	return &Error{Retryable: retry, Status: status, Err: fmt.Errorf("%s: remote answered %d: %s", op, status, body)}
}

// File is binary output (a generated PDF, a downloaded file). JSON encodes Data as base64:
// {"name","type","size","data"}. The flow engine stores File values as record attachments.
type File struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
	Data []byte `json:"data"`
}
