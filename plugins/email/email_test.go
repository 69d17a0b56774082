package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tessera/tessera/plugins/email"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

// mailbox is an in-process SMTP server (emersion/go-smtp) with PLAIN auth.
type mailbox struct {
	mu    sync.Mutex
	msgs  []received
	user  string
	pass  string
	authd bool
}

type received struct {
	from string
	rcpt []string
	data []byte
}

type session struct {
	mb   *mailbox
	cur  received
	auth bool
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.mb.user || pass != s.mb.pass {
			return errors.New("invalid credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mb.user != "" && !s.auth {
		return smtp.ErrAuthRequired
	}
	s.cur = received{from: from}
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.rcpt = append(s.cur.rcpt, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.cur)
	s.mb.authd = s.auth
	s.mb.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

func startSMTP(t *testing.T, mb *mailbox) (host, port string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	h, p, _ := net.SplitHostPort(l.Addr().String())
	return h, p
}

func decodePart(t *testing.T, header map[string][]string, body io.Reader) string {
	t.Helper()
	var r io.Reader = body
	switch strings.ToLower(strings.Join(header["Content-Transfer-Encoding"], "")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSpec(t *testing.T) { sdktest.CheckSpec(t, email.Connector{}) }

func TestSendChinese(t *testing.T) {
	mb := &mailbox{user: "sales@example.cn", pass: "授权码-123"}
	host, port := startSMTP(t, mb)
	h := sdktest.New(t).WithCredentials(map[string]string{"host": host, "port": port, "security": "none",
		"username": mb.user, "password": mb.pass, "from": "sales@example.cn", "from_name": "销售部"})
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 fake"))
	out := h.MustRun(email.Connector{}, "send", map[string]any{
		"to": "张三 <zhangsan@example.com>, li@example.com", "cc": "boss@example.com", "bcc": "audit@example.com",
		"subject":     "报价单：深圳市某某科技有限公司 – 第 3 版",
		"text":        "张总您好：\n\n附件是贵司的正式报价单，金额 ¥128,000.00。\n\n此致\n敬礼",
		"html":        "<p>张总您好：</p><p>附件是贵司的<b>正式报价单</b>。</p>",
		"attachments": []any{map[string]any{"name": "报价单.pdf", "type": "application/pdf", "data": pdf}},
	}).(map[string]any)
	if out["recipients"] != 4 || out["message_id"] == "" {
		t.Fatalf("out %v", out)
	}
	if len(mb.msgs) != 1 || !mb.authd {
		t.Fatalf("messages %d, authenticated %v", len(mb.msgs), mb.authd)
	}
	got := mb.msgs[0]
	if got.from != "sales@example.cn" || strings.Join(got.rcpt, ",") != "zhangsan@example.com,li@example.com,boss@example.com,audit@example.com" {
		t.Fatalf("envelope %v %v", got.from, got.rcpt)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "报价单：深圳市某某科技有限公司 – 第 3 版" {
		t.Fatalf("subject %q (raw %q) %v", subject, msg.Header.Get("Subject"), err)
	}
	from, _ := msg.Header.AddressList("From")
	if len(from) != 1 || from[0].Name != "销售部" {
		t.Fatalf("from %v", msg.Header.Get("From"))
	}
	if msg.Header.Get("Bcc") != "" {
		t.Fatal("Bcc header leaked")
	}
	// Walk the MIME tree and collect decoded text parts and attachment names.
	var texts, htmls, files []string
	var walk func(ct string, h map[string][]string, body io.Reader)
	walk = func(ct string, h map[string][]string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header, p)
			}
		}
		content := decodePart(t, h, body)
		switch {
		case strings.Contains(strings.Join(h["Content-Disposition"], ""), "attachment"):
			_, dp, _ := mime.ParseMediaType(strings.Join(h["Content-Disposition"], ""))
			name, _ := dec.DecodeHeader(dp["filename"])
			files = append(files, name+"="+content)
		case mt == "text/plain":
			texts = append(texts, content)
		case mt == "text/html":
			htmls = append(htmls, content)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header, msg.Body)
	if len(texts) != 1 || strings.ReplaceAll(texts[0], "\r\n", "\n") != "张总您好：\n\n附件是贵司的正式报价单，金额 ¥128,000.00。\n\n此致\n敬礼" {
		t.Fatalf("text parts %q", texts)
	}
	if len(htmls) != 1 || !strings.Contains(htmls[0], "<b>正式报价单</b>") {
		t.Fatalf("html parts %q", htmls)
	}
	if len(files) != 1 || files[0] != "报价单.pdf=%PDF-1.4 fake" {
		t.Fatalf("attachments %q", files)
	}
}

func TestAuthAndTLSFailures(t *testing.T) {
	mb := &mailbox{user: "u@example.cn", pass: "right"}
	host, port := startSMTP(t, mb)
	creds := map[string]string{"host": host, "port": port, "security": "none", "username": "u@example.cn", "password": "right", "from": "u@example.cn"}
	h := sdktest.New(t).WithCredentials(creds)
	if err := h.Test(email.Connector{}); err != nil {
		t.Fatalf("connection test: %v", err)
	}
	creds["password"] = "wrong"
	if err := h.Test(email.Connector{}); err == nil {
		t.Fatal("wrong password passed the connection test")
	}
	if _, err := h.Run(email.Connector{}, "send", map[string]any{"to": "a@example.com", "subject": "s", "text": "t"}); err == nil {
		t.Fatal("sent with a wrong password")
	}
	creds["password"] = "right"
	creds["security"] = "starttls" // the peer offers no STARTTLS: mandatory TLS must refuse to send in clear
	if err := h.Test(email.Connector{}); err == nil {
		t.Fatal("starttls accepted a server without TLS")
	}
	if len(mb.msgs) != 0 {
		t.Fatalf("messages delivered: %d", len(mb.msgs))
	}
}

// selfSigned returns a TLS certificate for 127.0.0.1 and its PEM (used as the trusted CA).
func selfSigned(t *testing.T) (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.intra"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemText
}

// TestTLSModes sends over implicit TLS and STARTTLS to servers whose certificate is signed by
// a CA given in the credential; without it the certificate is refused.
func TestTLSModes(t *testing.T) {
	cert, caPEM := selfSigned(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, mode := range []string{"tls", "starttls"} {
		t.Run(mode, func(t *testing.T) {
			mb := &mailbox{user: "u@intra", pass: "p"}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := smtp.NewServer(mb)
			srv.Domain = "mail.intra"
			if mode == "tls" {
				l = tls.NewListener(l, cfg)
			} else {
				srv.TLSConfig = cfg
			}
			go srv.Serve(l)
			defer srv.Close()
			_, port, _ := net.SplitHostPort(l.Addr().String())
			creds := map[string]string{"host": "127.0.0.1", "port": port, "security": mode, "username": "u@intra", "password": "p", "from": "u@intra"}
			h := sdktest.New(t).WithCredentials(creds)
			if err := h.Test(email.Connector{}); err == nil {
				t.Fatal("untrusted certificate accepted")
			}
			creds["ca_cert"] = caPEM
			h.MustRun(email.Connector{}, "send", map[string]any{"to": "a@intra", "subject": "加密投递", "text": "内容"})
			if len(mb.msgs) != 1 || !mb.authd {
				t.Fatalf("delivered %d, auth %v", len(mb.msgs), mb.authd)
			}
			msg, _ := mail.ReadMessage(bytes.NewReader(mb.msgs[0].data))
			if s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); s != "加密投递" {
				t.Fatalf("subject %q", s)
			}
		})
	}
}

// TestAttachStoredFile: an attachment may be a stored file {"id", ...} (what a pdf step's
// file becomes in a flow), read through env.Files; unknown ids and hosts without files fail
// for good.
func TestAttachStoredFile(t *testing.T) {
	stored := map[string]sdk.File{"f-1": {Name: "报价单-Q-1.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4 stored")}}
	files := func(_ context.Context, id string) (sdk.File, error) {
		f, ok := stored[id]
		if !ok {
			return sdk.File{}, sdk.Permanent(fmt.Errorf("file %s not found", id))
		}
		return f, nil
	}
	cases := []struct {
		name    string
		files   sdk.FileReader
		attach  any
		wantErr string
	}{
		{"stored file", files, []any{map[string]any{"id": "f-1", "name": "报价单-Q-1.pdf", "size": 15, "sha256": "x"}}, ""},
		{"single stored file without name", files, map[string]any{"id": "f-1"}, ""},
		{"unknown id", files, []any{map[string]any{"id": "nope"}}, "not found"},
		{"host without files", nil, []any{map[string]any{"id": "f-1"}}, "no stored files"},
		{"neither id nor data", files, []any{map[string]any{"name": "a.txt"}}, "needs name and data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mb := &mailbox{}
			host, port := startSMTP(t, mb)
			h := sdktest.New(t).WithCredentials(map[string]string{"host": host, "port": port, "security": "none", "from": "sales@example.cn"})
			h.Env.Files = tc.files
			_, err := h.Run(email.Connector{}, "send", map[string]any{"to": "a@example.com", "subject": "s", "text": "t", "attachments": tc.attach})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || sdk.IsRetryable(err) {
					t.Fatalf("want a permanent %q error, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(mb.msgs) != 1 || !strings.Contains(string(mb.msgs[0].data), base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 stored"))) {
				t.Fatalf("attachment not sent: %d messages", len(mb.msgs))
			}
		})
	}
}
