package apitest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mailbox is an in-process SMTP server that keeps every message it receives (no TLS, no
// authentication: a test's "internal relay"). Point the platform SMTP settings or an email
// credential at Host:Port with security "none".
type Mailbox struct {
	Host, Port string
	mu         sync.Mutex
	msgs       []Mail
}

// Mail is one received message: envelope, subject and the decoded text of every part.
type Mail struct {
	From    string
	To      []string
	Subject string
	Body    string // text and HTML parts, decoded, concatenated
	Raw     []byte
}

// StartMailbox listens on a loopback port until the test ends.
func StartMailbox(t testing.TB) *Mailbox {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailbox: %v", err)
	}
	mb := &Mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	mb.Host, mb.Port, _ = net.SplitHostPort(l.Addr().String())
	return mb
}

// Messages answers a copy of the messages received so far, in order.
func (mb *Mailbox) Messages() []Mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]Mail(nil), mb.msgs...)
}

// To answers the messages with rcpt among their recipients.
func (mb *Mailbox) To(rcpt string) []Mail {
	var out []Mail
	for _, m := range mb.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// NewSession implements smtp.Backend.
func (mb *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }

type mailSession struct {
	mb  *Mailbox
	cur Mail
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur = Mail{From: from}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Raw = raw
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		dec := new(mime.WordDecoder)
		if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
			s.cur.Subject = subj
		}
		var b strings.Builder
		decodeParts(map[string][]string(msg.Header), msg.Body, &b)
		s.cur.Body = b.String()
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.cur)
	s.mb.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = Mail{} }
func (s *mailSession) Logout() error { return nil }

// decodeParts appends the decoded text of a (multipart) body to b.
func decodeParts(h map[string][]string, body io.Reader, b *strings.Builder) {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, _ := mime.ParseMediaType(get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			decodeParts(p.Header, p, b)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripNewlines{body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	data, _ := io.ReadAll(r)
	b.Write(data)
	b.WriteString("\n")
}

// stripNewlines drops CR and LF so base64 bodies decode.
type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
