package script

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// Wire protocol between the pool (parent) and a worker (child), over the child's stdin/stdout:
// every message is a 4-byte big-endian length followed by that many bytes of JSON (a message).
//
//	child  -> parent  {"t":"ready"}                                   once, after start
//	parent -> child   {"t":"run","code","input","timeout_ms"}         one call
//	child  -> parent  {"t":"host","method","args"}                    zero or more per call
//	parent -> child   {"t":"reply","result"} | {"t":"reply","error"}  answer to each host message
//	child  -> parent  {"t":"result","output","logs"} | {"t":"result","error":{...},"logs"}
const (
	msgReady  = "ready"
	msgRun    = "run"
	msgHost   = "host"
	msgReply  = "reply"
	msgResult = "result"
)

type message struct {
	T         string          `json:"t"`
	Code      string          `json:"code,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	TimeoutMS int64           `json:"timeout_ms,omitempty"`
	Method    string          `json:"method,omitempty"`
	Args      json.RawMessage `json:"args,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	HostError string          `json:"host_error,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	Logs      []string        `json:"logs,omitempty"`
	Error     *ScriptError    `json:"error,omitempty"`
	PID       int             `json:"pid,omitempty"`
	Recycle   bool            `json:"recycle,omitempty"` // the worker grew large: replace it after this call
}

func writeFrame(w io.Writer, m *message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding %s message: %w", m.T, err)
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("writing %s message: %w", m.T, err)
	}
	return nil
}

// readFrame reads one message; frames longer than max bytes are a protocol error.
func readFrame(r io.Reader, max int) (*message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if int64(n) > int64(max) {
		return nil, fmt.Errorf("reading message: frame of %d bytes exceeds %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("reading message body: %w", err)
	}
	m := new(message)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decoding message: %w", err)
	}
	return m, nil
}
