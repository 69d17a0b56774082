// Package email sends mail over SMTP with github.com/wneessen/go-mail (UTF-8 headers and
// bodies, so Chinese subjects and text arrive intact), connecting through the host's
// guarded dialer.
package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/tessera/tessera/plugins/sdk"
)

func init() { sdk.Register(Connector{}) }

// Connector is the SMTP email connector ("email").
type Connector struct{}

var minPort, maxPort = 1.0, 65535.0

// Spec describes the connector.
func (Connector) Spec() sdk.Spec {
	return sdk.Spec{
		ID: "email", Version: "1.0.0", Category: "messaging", Icon: "mail",
		Label:       sdk.T("Email (SMTP)", "电子邮件 (SMTP)"),
		Description: sdk.T("Send email through your SMTP server.", "通过 SMTP 服务器发送邮件。"),
		Credentials: []sdk.Param{
			{Key: "host", Type: sdk.TypeString, Label: sdk.T("SMTP host", "SMTP 服务器"), Required: true, Placeholder: "smtp.exmail.qq.com"},
			{Key: "port", Type: sdk.TypeNumber, Label: sdk.T("Port", "端口"), Default: 465.0, Min: &minPort, Max: &maxPort},
			{Key: "security", Type: sdk.TypeSelect, Label: sdk.T("Security", "加密方式"), Default: "tls", Options: []sdk.Option{
				{Value: "tls", Label: sdk.T("TLS (port 465)", "SSL/TLS（465 端口）")},
				{Value: "starttls", Label: sdk.T("STARTTLS (port 587)", "STARTTLS（587 端口）")},
				{Value: "none", Label: sdk.T("None (internal relay only)", "不加密（仅限内网中继）")}}},
			{Key: "username", Type: sdk.TypeString, Label: sdk.T("Username", "用户名")},
			{Key: "password", Type: sdk.TypeSecret, Label: sdk.T("Password / app password", "密码 / 授权码")},
			{Key: "from", Type: sdk.TypeString, Label: sdk.T("From address", "发件地址"), Required: true},
			{Key: "ca_cert", Type: sdk.TypeText, Label: sdk.T("Trusted CA certificate (PEM, optional)", "受信任的 CA 证书（PEM，可选）"),
				ShowIf: map[string][]any{"security": {"tls", "starttls"}},
				Help:   sdk.T("For internal servers whose certificate is signed by your own CA.", "用于证书由企业自有 CA 签发的内部邮件服务器。")},
			{Key: "from_name", Type: sdk.TypeString, Label: sdk.T("From name", "发件人名称")},
		},
		Operations: []sdk.Operation{{
			ID: "send", Label: sdk.T("Send email", "发送邮件"),
			Params: []sdk.Param{
				{Key: "to", Type: sdk.TypeString, Label: sdk.T("To (comma-separated)", "收件人（逗号分隔）"), Required: true},
				{Key: "cc", Type: sdk.TypeString, Label: sdk.T("Cc", "抄送")},
				{Key: "bcc", Type: sdk.TypeString, Label: sdk.T("Bcc", "密送")},
				{Key: "reply_to", Type: sdk.TypeString, Label: sdk.T("Reply to", "回复地址")},
				{Key: "subject", Type: sdk.TypeString, Label: sdk.T("Subject", "主题"), Required: true},
				{Key: "text", Type: sdk.TypeText, Label: sdk.T("Text body", "正文（纯文本）"), Required: true},
				{Key: "html", Type: sdk.TypeText, Label: sdk.T("HTML body (optional)", "HTML 正文（可选）")},
				{Key: "attachments", Type: sdk.TypeJSON, Label: sdk.T("Attachments", "附件"),
					Help: sdk.T(`A list of files: {"name","type","data"(base64)}, or a stored file {"id"} such as a pdf step's file or a record's attachment.`,
						`文件列表：{"name","type","data"(base64)}，或已存储的文件 {"id"}，如 PDF 步骤输出的 file 或记录的附件。`)},
			},
			Output: []sdk.OutputField{{Key: "message_id", Type: "string", Label: sdk.T("Message-ID", "邮件 ID")}, {Key: "recipients", Type: "number", Label: sdk.T("Recipients", "收件人数")}},
			Run:    send,
		}},
	}
}

func addresses(s string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ';' || r == '；' }) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func client(env sdk.Env) (*mail.Client, error) {
	host := env.Credential("host")
	if host == "" {
		return nil, sdk.Permanent(errors.New("the credential has no SMTP host"))
	}
	if env.Dial == nil {
		return nil, sdk.Permanent(sdk.ErrNoNetwork)
	}
	port := 0
	if p := env.Credential("port"); p != "" {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 1 || f > 65535 {
			return nil, sdk.Permanent(fmt.Errorf("invalid SMTP port %q", p))
		}
		port = int(f)
	}
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if pem := env.Credential("ca_cert"); pem != "" {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(pem)) {
			return nil, sdk.Permanent(errors.New("the CA certificate is not valid PEM"))
		}
		tlsConf.RootCAs = roots
	}
	dial := mail.DialContextFunc(env.Dial)
	// Mechanisms in order of preference; PLAIN and LOGIN only over TLS unless the
	// administrator chose an unencrypted relay.
	mechs := []mail.SMTPAuthType{mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthCramMD5, mail.SMTPAuthPlain, mail.SMTPAuthLogin}
	opts := []mail.Option{mail.WithTimeout(30 * time.Second), mail.WithTLSConfig(tlsConf)}
	switch env.Credential("security") {
	case "", "tls":
		if port == 0 {
			port = 465
		}
		// go-mail does not wrap a custom dialer's connection in TLS: do it here, so implicit
		// TLS goes through the guarded dialer too.
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := env.Dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn := tls.Client(raw, tlsConf)
			if err := conn.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
			}
			return conn, nil
		}
		opts = append(opts, mail.WithSSL())
	case "starttls":
		if port == 0 {
			port = 587
		}
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "none":
		if port == 0 {
			port = 25
		}
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		mechs = []mail.SMTPAuthType{mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthCramMD5, mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
	default:
		return nil, sdk.Permanent(fmt.Errorf("unknown security mode %q", env.Credential("security")))
	}
	opts = append(opts, mail.WithPort(port), mail.WithDialContextFunc(dial))
	if u := env.Credential("username"); u != "" {
		opts = append(opts, mail.WithOpportunisticSMTPAuth(mechs...), mail.WithUsername(u), mail.WithPassword(env.Credential("password")))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("configuring SMTP client: %w", err))
	}
	return c, nil
}

// Test connects, negotiates TLS and authenticates, without sending.
func (Connector) Test(ctx context.Context, env sdk.Env) error {
	c, err := client(env)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", env.Credential("host"), err)
	}
	return c.Close()
}

func send(ctx context.Context, env sdk.Env, p map[string]any) (any, error) {
	m := mail.NewMsg()
	from := env.Credential("from")
	var err error
	if name := env.Credential("from_name"); name != "" {
		err = m.FromFormat(name, from)
	} else {
		err = m.From(from)
	}
	if err != nil {
		return nil, sdk.Permanent(fmt.Errorf("from address %q: %w", from, err))
	}
	to, cc, bcc := addresses(sdk.String(p, "to")), addresses(sdk.String(p, "cc")), addresses(sdk.String(p, "bcc"))
	if len(to) == 0 {
		return nil, sdk.Permanent(errors.New("no recipient"))
	}
	if err := m.To(to...); err != nil {
		return nil, sdk.Permanent(fmt.Errorf("to: %w", err))
	}
	if len(cc) > 0 {
		if err := m.Cc(cc...); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("cc: %w", err))
		}
	}
	if len(bcc) > 0 {
		if err := m.Bcc(bcc...); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("bcc: %w", err))
		}
	}
	if rt := sdk.String(p, "reply_to"); rt != "" {
		if err := m.ReplyTo(rt); err != nil {
			return nil, sdk.Permanent(fmt.Errorf("reply_to: %w", err))
		}
	}
	m.Subject(sdk.String(p, "subject"))
	m.SetDateWithValue(env.Time())
	// A Message-ID derived from the step's idempotency key lets receivers drop duplicates
	// when a retried step sends again.
	domain := "tessera.local"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = from[i+1:]
	}
	var msgID string
	if env.IdempotencyKey != "" {
		sum := sha256.Sum256([]byte(env.IdempotencyKey))
		msgID = hex.EncodeToString(sum[:16]) + "@" + domain
		m.SetMessageIDWithValue(msgID)
	} else {
		m.SetMessageID()
		if v := m.GetGenHeader(mail.HeaderMessageID); len(v) > 0 {
			msgID = strings.Trim(v[0], "<>")
		}
	}
	m.SetBodyString(mail.TypeTextPlain, sdk.String(p, "text"))
	if html := sdk.String(p, "html"); html != "" {
		m.AddAlternativeString(mail.TypeTextHTML, html)
	}
	if err := attach(ctx, env, m, p["attachments"]); err != nil {
		return nil, err
	}
	c, err := client(env)
	if err != nil {
		return nil, err
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && !se.IsTemp() {
			return nil, sdk.Permanent(fmt.Errorf("sending mail: %w", err))
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.As(err, &se) {
			return nil, sdk.Temporary(fmt.Errorf("sending mail: %w", err))
		}
		return nil, fmt.Errorf("sending mail: %w", err)
	}
	env.Log().Info("email sent", "recipients", len(to)+len(cc)+len(bcc))
	return map[string]any{"message_id": msgID, "recipients": len(to) + len(cc) + len(bcc)}, nil
}

// attach adds the attachments: objects {name, type, data (base64)}, or stored files
// {id, ...} (a record attachment, a pdf step's file) read through env.File.
func attach(ctx context.Context, env sdk.Env, m *mail.Msg, v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v} // a single file object
	}
	for i, item := range list {
		f, ok := item.(map[string]any)
		if !ok {
			return sdk.Permanent(fmt.Errorf("attachment %d must be an object {name, type, data} or a stored file {id} / 附件 %d 应为 {name, type, data} 或已存储文件 {id}", i, i))
		}
		name, _ := f["name"].(string)
		data, _ := f["data"].(string)
		ct, _ := f["type"].(string)
		var raw []byte
		if id, _ := f["id"].(string); data == "" && id != "" {
			file, err := env.File(ctx, id)
			if err != nil {
				return fmt.Errorf("attachment %d: %w", i, err)
			}
			raw = file.Data
			if name == "" {
				name = file.Name
			}
			if ct == "" {
				ct = file.Type
			}
		} else {
			if name == "" || data == "" {
				return sdk.Permanent(fmt.Errorf("attachment %d needs name and data, or the id of a stored file / 附件 %d 需要 name 和 data，或已存储文件的 id", i, i))
			}
			var err error
			if raw, err = base64.StdEncoding.DecodeString(data); err != nil {
				return sdk.Permanent(fmt.Errorf("attachment %s: data is not base64: %w", name, err))
			}
		}
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := m.AttachReader(name, bytes.NewReader(raw), mail.WithFileContentType(mail.ContentType(ct))); err != nil {
			return sdk.Permanent(fmt.Errorf("attachment %s: %w", name, err))
		}
	}
	return nil
}
