package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/forms"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// Public form limits.
const (
	publicFormBodyLimit = 64 << 10 // bytes per public submission
	publicFormRate      = 30       // submissions per IP and minute unless the form says otherwise
)

var (
	utmKeys     = forms.UTMKeys
	honeypotKey = forms.HoneypotKey
)

// mountForms registers the forms routes.
func (s *Server) mountForms() error {
	lim := newIPLimiter()
	s.route(fiber.MethodPost, "/api/v1/apps/:app/forms/:form/submit", "forms", "Submit a form (authenticated)", s.submitForm)
	s.route(fiber.MethodGet, "/f/:public_id", "forms", "Public form page", s.publicFormPage)
	s.route(fiber.MethodGet, "/api/v1/public/forms/:public_id", "forms", "Public form definition (no auth)", s.publicFormJSON)
	s.route(fiber.MethodPost, "/api/v1/public/forms/:public_id/submit", "forms", "Submit a public form (no auth; honeypot, per-IP rate limit, 64 KiB)",
		func(c *fiber.Ctx) error { return s.submitPublicForm(c, lim) })
	s.route(fiber.MethodPost, "/api/v1/apps/:app/forms/:form/visibility", "forms", "The form's fields hidden for the given values (visibility conditions and rules)", s.formVisibility)
	s.route(fiber.MethodPost, "/api/v1/public/forms/:public_id/uploads", "forms", "Upload a file to an attachment field of a public form (no auth; multipart \"field\" and \"file\"; size/type limits, per-IP rate limit): answers a one-time token for the submission, never the file",
		func(c *fiber.Ctx) error { return s.publicFormUpload(c, lim) })
	s.route(fiber.MethodGet, "/api/v1/public/forms/:public_id/lookup/:field", "forms", "Search the records a public form's relation field exposes (no auth; only the exposed fields; per-IP rate limit)",
		func(c *fiber.Ctx) error { return s.publicFormLookup(c, lim) })
	s.route(fiber.MethodPost, "/api/v1/public/forms/:public_id/visibility", "forms", "The public form's fields hidden for the given values (no auth; per-IP rate limit)",
		func(c *fiber.Ctx) error { return s.publicFormVisibility(c, lim) })
	return nil
}

// hiddenParams lists the query parameters the page captures: the form's hidden list and the
// UTM parameters, each once.
func hiddenParams(f *spec.Form) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(append([]string{}, f.Hidden...), utmKeys...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func successMessage(f *spec.Form, locale string) string {
	if f.Success != nil && len(f.Success.Message) > 0 {
		return f.Success.Message.Text(locale, "")
	}
	if strings.HasPrefix(locale, "en") {
		return "Thank you, we received your submission."
	}
	return "提交成功，感谢您的填写！"
}

// internalForm answers the signed-in caller, the app they may read and its published form
// named by the route (:app, :form), or the 401/404 problem.
func (s *Server) internalForm(c *fiber.Ctx) (*auth.Principal, *defs.App, *spec.Form, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := c.UserContext()
	app, err := s.readableApp(ctx, p, c.Params("app"), problem.NotFound("app not found (应用不存在)"))
	if err != nil {
		return nil, nil, nil, err
	}
	form, _, err := s.Defs.Form(ctx, app.ID, c.Params("form"))
	if errors.Is(err, defs.ErrNotFound) {
		return nil, nil, nil, problem.NotFound("form not found (表单不存在)")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return p, app, form, nil
}

func (s *Server) submitForm(c *fiber.Ctx) error {
	p, app, form, err := s.internalForm(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, "entity:"+form.Entity, "create")
	if err != nil {
		return fmt.Errorf("checking permission: %w", err)
	}
	if !g.Allowed() {
		return problem.Forbidden("you may not submit this form (没有权限)")
	}
	in, err := readValues(c, s.Cfg.MaxBody)
	if err != nil {
		return err
	}
	rec, err := s.saveSubmission(ctx, app, form, in, p.Locale, records.WriteOptions{Actor: p.Subject(), Grant: g})
	if err != nil {
		return err
	}
	if rec.Receipt != nil {
		out := receiptAnswer(rec.Receipt, p.Locale)
		out["id"], out["message"] = rec.Receipt.SubmissionID, successMessage(form, p.Locale)
		return c.Status(fiber.StatusAccepted).JSON(out)
	}
	status := fiber.StatusCreated
	if rec.Merged {
		status = fiber.StatusOK // as the record API answers a dedupe merge
	}
	return c.Status(status).JSON(fiber.Map{"id": rec.ID, "message": successMessage(form, p.Locale), "record": rec, "merged": rec.Merged})
}

// saveSubmission validates a submission against the form and writes the record (its events and
// the form.submitted change commit with it).
func (s *Server) saveSubmission(ctx context.Context, app *defs.App, form *spec.Form, in map[string]any, locale string, w records.WriteOptions) (*records.Record, error) {
	ent := w.Entity
	if ent == nil || ent.Slug != form.Entity {
		e, ver, err := s.Defs.Entity(ctx, app.ID, form.Entity)
		if errors.Is(err, defs.ErrNotFound) {
			return nil, problem.NotFound("the form's entity is not published (表单对应的实体未发布)")
		}
		if err != nil {
			return nil, err
		}
		ent, w.Entity, w.EntityVersion = e, e, ver
	}
	values, err := forms.Values(form, ent, in, locale)
	if err != nil {
		return nil, err
	}
	w.Source, w.Form = "form:"+form.Slug, form.Slug
	rec, err := s.Records.Create(ctx, app, form.Entity, values, w)
	if err != nil {
		return nil, recordError(err)
	}
	return rec, nil
}

// publicForm is a published public form with its app and entity.
type publicForm struct {
	id         uuid.UUID // the form's definition
	app        *defs.App
	form       *spec.Form
	ent        *spec.Entity
	entVersion int
}

// loadPublicForm resolves the public id to the app, the published form and its published
// entity in one query (the definition bodies come from the loader's version cache).
func (s *Server) loadPublicForm(c *fiber.Ctx) (*publicForm, error) {
	ctx := c.UserContext()
	notFound := problem.NotFound("form not found (表单不存在)")
	app := &defs.App{}
	var formSlug, entSlug string
	var formVer int
	var entVer *int
	var formID uuid.UUID
	err := s.DB.Pool.QueryRow(ctx, `SELECT f.id, a.id, a.slug, a.name, a.settings, f.slug, f.published_version, fv.body->>'entity', e.published_version
		FROM definitions f JOIN apps a ON a.id = f.app_id
		JOIN definition_versions fv ON fv.definition_id = f.id AND fv.version = f.published_version
		LEFT JOIN definitions e ON e.app_id = f.app_id AND e.kind = 'entities' AND e.slug = fv.body->>'entity'
		WHERE f.public_id = $1 AND f.kind = 'forms' AND f.published_version > 0`, c.Params("public_id")).
		Scan(&formID, &app.ID, &app.Slug, &app.Name, &app.Settings, &formSlug, &formVer, &entSlug, &entVer)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("loading public form: %w", err)
	}
	if entVer == nil || *entVer == 0 {
		return nil, notFound
	}
	fv, err := s.Defs.Version(ctx, app.ID, spec.KindForm, formSlug, formVer)
	if err != nil {
		return nil, fmt.Errorf("loading public form: %w", err)
	}
	form, _ := fv.(*spec.Form)
	if form == nil || !form.Public {
		return nil, notFound
	}
	ev, err := s.Defs.Version(ctx, app.ID, spec.KindEntity, entSlug, *entVer)
	if err != nil {
		return nil, fmt.Errorf("loading the form's entity: %w", err)
	}
	ent, _ := ev.(*spec.Entity)
	if ent == nil {
		return nil, notFound
	}
	return &publicForm{id: formID, app: app, form: form, ent: ent, entVersion: *entVer}, nil
}

func (s *Server) submitPublicForm(c *fiber.Ctx, lim *ipLimiter) error {
	locale := pageLocale(c)
	if len(c.Body()) > publicFormBodyLimit {
		return problem.New(fiber.StatusRequestEntityTooLarge, tr(locale, "the submission is larger than 64 KiB", "提交内容过大（超过 64 KiB）"))
	}
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return localizeProblem(err, locale, nil)
	}
	form := pf.form
	rate := publicFormRate
	if form.RateLimit > 0 {
		rate = form.RateLimit
	}
	if !lim.allow(c.Params("public_id")+"|"+auth.ClientIP(c), rate, time.Minute) {
		c.Set(fiber.HeaderRetryAfter, "60")
		return problem.New(fiber.StatusTooManyRequests, tr(locale, "too many submissions from your address; try again in a minute", "提交过于频繁，请稍后再试"))
	}
	in, err := readValues(c, publicFormBodyLimit)
	if err != nil {
		return localizeProblem(err, locale, nil)
	}
	// UTM parameters on the submit URL count like hidden fields of the page
	for _, k := range utmKeys {
		if v := c.Query(k); v != "" {
			if _, ok := in[k]; !ok {
				in[k] = v
			}
		}
	}
	if hp, ok := in[honeypotKey]; ok && hp != nil && hp != "" {
		// a bot: pretend success, write nothing
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": uuid.New(), "message": successMessage(form, locale)})
	}
	rec, err := s.savePublicSubmission(c.UserContext(), pf, in, locale)
	if err != nil {
		return localizeProblem(err, locale, pf.labels(locale))
	}
	// The answer is the submission id (a receipt), never a record id: a submission that matched
	// an existing record answers exactly like one that created a record.
	id := rec.ID
	if rec.Receipt != nil {
		id = rec.Receipt.SubmissionID
	}
	out := fiber.Map{"id": id, "message": successMessage(form, locale)}
	if form.Success != nil && form.Success.Redirect != "" {
		out["redirect"] = form.Success.Redirect
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// publicField is one input of the rendered public form.
type publicField struct {
	Key         string   `json:"key"`
	Type        string   `json:"type"`
	Input       string   `json:"input"` // HTML input type or select/textarea/checkboxes/checkbox
	Label       string   `json:"label"`
	Placeholder string   `json:"placeholder,omitempty"`
	Help        string   `json:"help,omitempty"`
	Required    bool     `json:"required"`
	Options     []option `json:"options,omitempty"`
	Section     string   `json:"section,omitempty"`
	Width       int      `json:"width,omitempty"`
	Default     any      `json:"default,omitempty"`
	ReadOnly    bool     `json:"read_only,omitempty"`
	Conditional bool     `json:"conditional,omitempty"` // shown only while a condition holds: ask /visibility
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	MinLength   int      `json:"min_length,omitempty"`
	MaxLength   int      `json:"max_length,omitempty"`
	Pattern     string   `json:"pattern,omitempty"`
	Message     string   `json:"message,omitempty"` // the form's validation message
	Accept      string   `json:"accept,omitempty"`  // attachment: the accepted types (HTML accept)
	Multiple    bool     `json:"multiple,omitempty"`
	Lookup      []string `json:"lookup,omitempty"` // relation: the exposed fields of the linked records
}

// publicSection is a group of inputs of the rendered public form (the top level is a section
// without a title).
type publicSection struct {
	Title       string        `json:"title,omitempty"`
	Columns     int           `json:"columns"`
	Collapsible bool          `json:"collapsible,omitempty"`
	Collapsed   bool          `json:"collapsed,omitempty"`
	Tab         bool          `json:"tab,omitempty"` // consecutive tab sections show as tabs
	Top         bool          `json:"-"`             // fields outside sections: widths span a 24-column grid
	Fields      []publicField `json:"fields"`
}

type option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

func inputType(t string) string {
	switch t {
	case spec.TypeTextarea:
		return "textarea"
	case spec.TypeNumber, spec.TypeMoney, spec.TypePercent:
		return "number"
	case spec.TypeEmail:
		return "email"
	case spec.TypePhone:
		return "tel"
	case spec.TypeURL:
		return "url"
	case spec.TypeDate:
		return "date"
	case spec.TypeDatetime:
		return "datetime-local"
	case spec.TypeSelect:
		return "select"
	case spec.TypeMultiselect:
		return "checkboxes"
	case spec.TypeBoolean:
		return "checkbox"
	case spec.TypeText:
		return "text"
	case spec.TypeAttachment:
		return "file"
	}
	return "" // not offered on public forms (users, teams, line tables, computed fields; relations without a lookup)
}

// publicSections builds the inputs of a form in locale, grouped by section (fields outside a
// section form untitled one-column groups).
func publicSections(f *spec.Form, ent *spec.Entity, locale string) []publicSection {
	var out []publicSection
	var cur *spec.FormItem
	for _, it := range forms.Items(f.Layout) {
		if it.Hidden {
			continue
		}
		fd := ent.Field(it.Field)
		input := ""
		if fd != nil {
			input = inputType(fd.Type)
			if fd.Type == spec.TypeRelation && len(it.Lookup) > 0 {
				input = "lookup"
			}
		}
		if input == "" {
			continue
		}
		if len(out) == 0 || it.Section != cur || (cur == nil && out[len(out)-1].Title != "") {
			ps := publicSection{Columns: 1, Top: it.Section == nil}
			if it.Section != nil {
				ps.Title = it.Section.Section.Text(locale, "")
				ps.Collapsible, ps.Collapsed = it.Section.Collapsible, it.Section.Collapsible && it.Section.Collapsed
				if it.Section.Columns > 1 {
					ps.Columns = it.Section.Columns
				}
				ps.Tab = it.Section.Display == "tab"
			}
			out = append(out, ps)
			cur = it.Section
		}
		label := it.Label.Text(locale, fd.Label.Text(locale, fd.Key))
		pf := publicField{Key: fd.Key, Type: fd.Type, Input: input, Label: label, Section: out[len(out)-1].Title,
			Accept: strings.Join(fd.Accept, ","), Multiple: fd.Multiple, Lookup: it.Lookup,
			Placeholder: it.Placeholder.Text(locale, ""), Help: it.Help.Text(locale, fd.Help.Text(locale, "")),
			Required: it.Required || fd.Required, ReadOnly: it.ReadOnly, Conditional: len(it.When) > 0}
		if it.Section == nil {
			pf.Width = 24
			if it.Width > 0 && it.Width < 24 {
				pf.Width = it.Width
			}
		}
		if len(it.Default) > 0 {
			_ = json.Unmarshal(it.Default, &pf.Default)
		}
		if v := it.Validation; v != nil {
			pf.Min, pf.Max, pf.MinLength, pf.MaxLength, pf.Pattern = v.Min, v.Max, v.MinLength, v.MaxLength, v.Pattern
			pf.Message = v.Message.Text(locale, "")
		}
		for _, o := range fd.Options {
			pf.Options = append(pf.Options, option{Value: o.Value, Label: o.Label.Text(locale, o.Value)})
		}
		out[len(out)-1].Fields = append(out[len(out)-1].Fields, pf)
	}
	for _, r := range f.Rules { // a field a rule shows or hides is conditional too
		if r.Then == "show" || r.Then == "hide" {
			for i := range out {
				for j := range out[i].Fields {
					if out[i].Fields[j].Key == r.Field {
						out[i].Fields[j].Conditional = true
					}
				}
			}
		}
	}
	return out
}

// publicFields lists the inputs of a form in locale, in order.
func publicFields(f *spec.Form, ent *spec.Entity, locale string) []publicField {
	var out []publicField
	for _, sec := range publicSections(f, ent, locale) {
		out = append(out, sec.Fields...)
	}
	return out
}

// formVisibility answers which fields of an internal form are hidden for the values sent.
func (s *Server) formVisibility(c *fiber.Ctx) error {
	_, app, form, err := s.internalForm(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ent, _, err := s.Defs.Entity(ctx, app.ID, form.Entity)
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("the form's entity is not published (表单对应的实体未发布)")
	}
	if err != nil {
		return err
	}
	in, err := readValues(c, publicFormBodyLimit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"hidden": forms.Hidden(form, ent, in)})
}

// publicFormVisibility answers which fields of a public form are hidden for the values sent
// (the page asks as the submitter types; the submit applies the same conditions).
func (s *Server) publicFormVisibility(c *fiber.Ctx, lim *ipLimiter) error {
	if len(c.Body()) > publicFormBodyLimit {
		return problem.New(fiber.StatusRequestEntityTooLarge, "the body is larger than 64 KiB (请求体过大)")
	}
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return err
	}
	if !lim.allow("vis|"+c.Params("public_id")+"|"+auth.ClientIP(c), 20*publicFormRate, time.Minute) {
		c.Set(fiber.HeaderRetryAfter, "60")
		return problem.New(fiber.StatusTooManyRequests, "too many requests from your address; try again in a minute (请求过于频繁，请稍后再试)")
	}
	in, err := readValues(c, publicFormBodyLimit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"hidden": forms.Hidden(pf.form, pf.ent, in)})
}

func pageLocale(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "en" || l == "zh-CN" {
		return l
	}
	if strings.HasPrefix(c.Get(fiber.HeaderAcceptLanguage), "en") {
		return "en"
	}
	return "zh-CN"
}

func (s *Server) publicFormJSON(c *fiber.Ctx) error {
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return err
	}
	form, ent := pf.form, pf.ent
	locale := pageLocale(c)
	return c.JSON(fiber.Map{"slug": form.Slug, "title": form.Title.Text(locale, form.Slug), "fields": publicFields(form, ent, locale),
		"sections": publicSections(form, ent, locale),
		"hidden":   hiddenParams(form), "consent": consentText(form, locale)})
}

func consentText(f *spec.Form, locale string) string {
	if f.Consent == nil {
		return ""
	}
	return f.Consent.Text(locale, "")
}

var pageText = map[string]map[string]string{
	"zh-CN": {"submit": "提交", "sending": "提交中…", "error": "提交失败，请检查后重试", "required": "必填", "lang": "zh-CN", "other": "English", "otherLang": "en",
		"search": "搜索", "uploading": "正在上传…", "remove": "移除", "upfail": "上传失败，请重试", "choose": "选择文件"},
	"en": {"submit": "Submit", "sending": "Sending…", "error": "Please check the form and try again", "required": "required", "lang": "en", "other": "中文", "otherLang": "zh-CN",
		"search": "Search", "uploading": "Uploading…", "remove": "Remove", "upfail": "The upload failed; please try again", "choose": "Choose files"},
}

func (s *Server) publicFormPage(c *fiber.Ctx) error {
	pf, err := s.loadPublicForm(c)
	if err != nil {
		var p *problem.Problem
		if errors.As(err, &p) && p.Status == fiber.StatusNotFound {
			c.Status(fiber.StatusNotFound).Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
			return c.SendString("<!doctype html><meta charset=utf-8><title>404</title><p>表单不存在 / Form not found</p>")
		}
		return err
	}
	form, ent := pf.form, pf.ent
	locale := pageLocale(c)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n := base64.StdEncoding.EncodeToString(nonce)
	hidden := hiddenParams(form)
	redirect := ""
	if form.Success != nil {
		if u, err := url.Parse(form.Success.Redirect); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			redirect = u.String()
		}
	}
	data := map[string]any{
		"Title":      form.Title.Text(locale, ent.Label.Text(locale, form.Slug)),
		"Sections":   publicSections(form, ent, locale),
		"Visibility": "/api/v1/public/forms/" + c.Params("public_id") + "/visibility",
		"Hidden":     hidden,
		"Consent":    consentText(form, locale),
		"Action":     "/api/v1/public/forms/" + c.Params("public_id") + "/submit",
		"Upload":     "/api/v1/public/forms/" + c.Params("public_id") + "/uploads",
		"Lookup":     "/api/v1/public/forms/" + c.Params("public_id") + "/lookup/",
		"Success":    successMessage(form, locale),
		"Redirect":   redirect,
		"T":          pageText[locale],
		"Nonce":      n,
		"Honeypot":   honeypotKey,
	}
	var b strings.Builder
	if err := formPage.Execute(&b, data); err != nil {
		return fmt.Errorf("rendering form page: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+n+"'; script-src 'nonce-"+n+"'; connect-src 'self'; form-action 'self'; frame-ancestors *; base-uri 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	return c.SendString(b.String())
}

var formPage = template.Must(template.New("form").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="{{.T.lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;background:#f5f6f8;margin:0;color:#1f2329}
main{max-width:640px;margin:32px auto;background:#fff;border-radius:10px;padding:28px 32px;box-shadow:0 2px 12px rgba(0,0,0,.06)}
h1{font-size:22px;margin:0 0 20px}h2{font-size:16px;margin:24px 0 8px;color:#555}
.f{margin-bottom:16px}label.l{display:block;font-weight:600;margin-bottom:6px}.req{color:#d4380d;margin-left:2px}
input[type=text],input[type=email],input[type=tel],input[type=url],input[type=number],input[type=date],input[type=datetime-local],select,textarea{width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #d0d3d9;border-radius:6px;font-size:15px}
textarea{min-height:96px}.help{color:#888;font-size:13px;margin-top:4px}.err{color:#d4380d;font-size:13px;margin-top:4px;min-height:0}
.bad input,.bad select,.bad textarea{border-color:#d4380d}.opt{display:inline-block;margin-right:14px}
button{background:#1677ff;color:#fff;border:0;border-radius:6px;padding:10px 28px;font-size:15px;cursor:pointer}button[disabled]{opacity:.6}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}.ok{font-size:17px;padding:24px 0}.lang{float:right;font-size:13px}
#formerr{color:#d4380d;margin:8px 0}
.grid{display:grid;column-gap:16px}.g24{grid-template-columns:repeat(24,minmax(0,1fr))}{{range $w := spans}}.w{{$w}}{grid-column:span {{$w}}}{{end}}
.up .files{list-style:none;padding:0;margin:6px 0 0}.up .files li{display:flex;gap:8px;align-items:center;font-size:14px;padding:4px 0}.up .files button{background:none;color:#d4380d;padding:0 6px;font-size:18px;line-height:1}
.up .busy{color:#888;font-size:13px}.pick{position:relative;display:inline-block;border:1px solid #d0d3d9;border-radius:6px;padding:8px 16px;font-size:14px;cursor:pointer;background:#fff}.pick:focus-within{outline:2px solid #1677ff}.pick input{position:absolute;inset:0;opacity:0;width:100%;cursor:pointer}input[type=search]{width:100%;box-sizing:border-box;padding:9px 10px;border:1px solid #d0d3d9;border-radius:6px;font-size:15px;margin-bottom:6px}
.tabs{display:flex;gap:4px;border-bottom:1px solid #e5e6eb;margin:16px 0 8px;overflow-x:auto}.tabs button{background:none;color:#555;border-radius:0;padding:8px 14px;border-bottom:2px solid transparent;white-space:nowrap}.tabs button.on{color:#1677ff;border-bottom-color:#1677ff}
.sec.tab.off{display:none}.c1{grid-template-columns:minmax(0,1fr)}.c2{grid-template-columns:repeat(2,minmax(0,1fr))}.c3{grid-template-columns:repeat(3,minmax(0,1fr))}
details.sec{border:1px solid #e5e6eb;border-radius:8px;padding:4px 14px;margin:16px 0}details.sec>summary{cursor:pointer;font-size:16px;font-weight:600;color:#555;padding:8px 0}
[readonly],select[disabled]{background:#f5f6f8;color:#666}.sec[hidden],.f[hidden]{display:none}
@media (max-width:600px){main{margin:0;border-radius:0;padding:20px 16px}.c2,.c3{grid-template-columns:minmax(0,1fr)}.g24>.f{grid-column:1/-1}}
</style></head><body><main>
<a class="lang" href="?lang={{.T.otherLang}}">{{.T.other}}</a>
<h1>{{.Title}}</h1>
<form id="tf" novalidate data-action="{{.Action}}" data-upload="{{.Upload}}" data-lookup="{{.Lookup}}" data-uploading="{{.T.uploading}}" data-remove="{{.T.remove}}" data-upfail="{{.T.upfail}}" data-visibility="{{.Visibility}}" data-success="{{.Success}}" data-redirect="{{.Redirect}}" data-sending="{{.T.sending}}" data-error="{{.T.error}}">
{{range .Sections}}{{if .Tab}}<section class="sec tab" data-title="{{.Title}}">{{else if .Collapsible}}<details class="sec"{{if not .Collapsed}} open{{end}}><summary>{{.Title}}</summary>{{else}}<section class="sec">{{if .Title}}<h2>{{.Title}}</h2>{{end}}{{end}}<div class="grid {{if .Top}}g24{{else}}c{{.Columns}}{{end}}">
{{range .Fields}}<div class="f{{if .Width}} w{{.Width}}{{end}}" id="f-{{.Key}}" data-key="{{.Key}}"{{if .Conditional}} data-cond="1"{{end}}><label class="l" for="i-{{.Key}}">{{.Label}}{{if .Required}}<span class="req" title="{{$.T.required}}">*</span>{{end}}</label>
{{if eq .Input "textarea"}}<textarea id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}" placeholder="{{.Placeholder}}"{{if .Required}} required{{end}}{{if .ReadOnly}} readonly{{end}}{{if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}>{{str .Default}}</textarea>
{{else if eq .Input "select"}}{{$d := .Default}}<select id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}"{{if .Required}} required{{end}}{{if .ReadOnly}} disabled{{end}}><option value=""></option>{{range .Options}}<option value="{{.Value}}"{{if has $d .Value}} selected{{end}}>{{.Label}}</option>{{end}}</select>
{{else if eq .Input "checkboxes"}}{{$d := .Default}}{{$ro := .ReadOnly}}<div id="i-{{.Key}}">{{$k := .Key}}{{range .Options}}<label class="opt"><input type="checkbox" name="{{$k}}" value="{{.Value}}" data-type="multiselect"{{if has $d .Value}} checked{{end}}{{if $ro}} disabled{{end}}> {{.Label}}</label>{{end}}</div>
{{else if eq .Input "file"}}<div class="up" id="i-{{.Key}}"><label class="pick">{{$.T.choose}}<input type="file" id="u-{{.Key}}" data-up="{{.Key}}"{{if .Accept}} accept="{{.Accept}}"{{end}}{{if .Multiple}} multiple{{end}}{{if .ReadOnly}} disabled{{end}}></label><ul class="files" id="l-{{.Key}}"></ul></div>
{{else if eq .Input "lookup"}}<input type="search" id="s-{{.Key}}" data-lookup="{{.Key}}" placeholder="{{$.T.search}}" autocomplete="off" aria-label="{{$.T.search}} {{.Label}}"><select id="i-{{.Key}}" name="{{.Key}}" data-type="relation"{{if .Multiple}} multiple{{end}}{{if .Required}} required{{end}}{{if .ReadOnly}} disabled{{end}}>{{if not .Multiple}}<option value=""></option>{{end}}</select>
{{else if eq .Input "checkbox"}}<input type="checkbox" id="i-{{.Key}}" name="{{.Key}}" data-type="boolean"{{if has .Default true}} checked{{end}}{{if .ReadOnly}} disabled{{end}}>
{{else}}<input type="{{.Input}}" id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}" placeholder="{{.Placeholder}}" value="{{str .Default}}"{{if eq .Input "number"}} step="any"{{end}}{{if .Required}} required{{end}}{{if .ReadOnly}} readonly{{end}}{{if .Min}} min="{{deref .Min}}"{{end}}{{if .Max}} max="{{deref .Max}}"{{end}}{{if .MaxLength}} maxlength="{{.MaxLength}}"{{end}}{{if .MinLength}} minlength="{{.MinLength}}"{{end}}>{{end}}
{{if .Help}}<div class="help">{{.Help}}</div>{{end}}<div class="err" id="e-{{.Key}}"></div></div>
{{end}}</div>{{if .Tab}}</section>{{else if .Collapsible}}</details>{{else}}</section>{{end}}
{{end}}
{{range .Hidden}}<input type="hidden" name="{{.}}" data-type="hidden">{{end}}
<div class="hp" aria-hidden="true"><label>Website <input type="text" name="{{.Honeypot}}" tabindex="-1" autocomplete="off" data-type="honeypot"></label></div>
{{if .Consent}}<div class="f" id="f-consent"><label><input type="checkbox" name="consent" data-type="boolean"> {{.Consent}}</label><div class="err" id="e-consent"></div></div>{{end}}
<div id="formerr"></div>
<button type="submit" id="send">{{.T.submit}}</button>
</form><div class="ok" id="done" hidden></div></main>
<script nonce="{{.Nonce}}">
(function(){
var f=document.getElementById('tf'),q=new URLSearchParams(location.search);
f.querySelectorAll('input[data-type=hidden]').forEach(function(h){var v=q.get(h.name);if(v)h.value=v;});
function values(){var body={};
 f.querySelectorAll('[name]').forEach(function(el){var t=el.dataset.type,n=el.name;
  if(t==='multiselect'){body[n]=body[n]||[];if(el.checked)body[n].push(el.value);return;}
  if(t==='boolean'){body[n]=el.checked;return;}
  if(t==='relation'&&el.multiple){body[n]=Array.prototype.map.call(el.selectedOptions,function(o){return o.value;});return;}
  if(el.value==='')return;
  if(t==='number'||t==='money'||t==='percent'){var x=Number(el.value);body[n]=isNaN(x)?el.value:x;return;}
  if(t==='datetime'){var d=new Date(el.value);body[n]=isNaN(d)?el.value:d.toISOString();return;}
  body[n]=el.value;});
 Object.keys(ups).forEach(function(k){if(ups[k].length)body[k]=ups[k].map(function(u){return {token:u.token};});});
 return body;}
var ups={},busy=0,lang=document.documentElement.lang;
function fieldErr(k,m){var el=document.getElementById('e-'+k),w=document.getElementById('f-'+k);if(el)el.textContent=m||'';if(w)w.classList.toggle('bad',!!m);}
function fixed(ev){var w=ev.target&&ev.target.closest&&ev.target.closest('.f');if(w&&w.classList.contains('bad')&&w.dataset.key)fieldErr(w.dataset.key,'');}
f.addEventListener('input',fixed);f.addEventListener('change',fixed);
function drawUps(k){var l=document.getElementById('l-'+k);l.textContent='';(ups[k]||[]).forEach(function(u,i){var li=document.createElement('li'),s=document.createElement('span'),b=document.createElement('button');
 s.textContent=u.name;b.type='button';b.textContent='\u00d7';b.title=f.dataset.remove;b.setAttribute('aria-label',f.dataset.remove+' '+u.name);
 b.addEventListener('click',function(){ups[k].splice(i,1);drawUps(k);});li.appendChild(s);li.appendChild(b);l.appendChild(li);});}
f.querySelectorAll('input[data-up]').forEach(function(inp){var k=inp.dataset.up;ups[k]=[];
 inp.addEventListener('change',function(){var files=Array.prototype.slice.call(inp.files||[]);inp.value='';fieldErr(k,'');
  files.forEach(function(file){var fd=new FormData();fd.append('field',k);fd.append('file',file);busy++;
   var note=document.createElement('li');note.className='busy';note.textContent=f.dataset.uploading+' '+file.name;document.getElementById('l-'+k).appendChild(note);
   fetch(f.dataset.upload,{method:'POST',headers:{'Accept-Language':lang},body:fd})
   .then(function(r){return r.json().catch(function(){return {};}).then(function(j){return {s:r.status,j:j};});})
   .then(function(r){busy--;if(r.s===201){if(!inp.multiple)ups[k]=[];ups[k].push({token:r.j.token,name:r.j.name});}else{fieldErr(k,(r.j.errors&&r.j.errors[0]&&r.j.errors[0].message)||r.j.detail||f.dataset.upfail);}drawUps(k);})
   .catch(function(){busy--;fieldErr(k,f.dataset.upfail);drawUps(k);});});});});
f.querySelectorAll('input[data-lookup]').forEach(function(inp){var k=inp.dataset.lookup,sel=document.getElementById('i-'+k),t=null,n=0;
 function load(){var my=++n;fetch(f.dataset.lookup+encodeURIComponent(k)+'?q='+encodeURIComponent(inp.value)+'&lang='+encodeURIComponent(lang))
  .then(function(r){return r.ok?r.json():null;}).then(function(j){if(!j||my!==n)return;var keep={};Array.prototype.forEach.call(sel.selectedOptions,function(o){if(o.value)keep[o.value]=o.textContent;});
   sel.textContent='';if(!sel.multiple)sel.appendChild(new Option('',''));Object.keys(keep).forEach(function(v){sel.appendChild(new Option(keep[v],v,true,true));});
   (j.items||[]).forEach(function(h){if(!keep[h.id])sel.appendChild(new Option(h.label,h.id));});}).catch(function(){});}
 inp.addEventListener('input',function(){clearTimeout(t);t=setTimeout(load,250);});load();});
var tabs=[];f.querySelectorAll('.sec').forEach(function(s){if(s.classList.contains('tab')){var g=tabs.length&&tabs[tabs.length-1];if(!g||g.end!==s.previousElementSibling){g={list:[]};tabs.push(g);}g.list.push(s);g.end=s;}});
function showTab(g,i){g.list.forEach(function(s,j){s.classList.toggle('off',j!==i);g.bar.children[j].classList.toggle('on',j===i);g.bar.children[j].setAttribute('aria-selected',String(j===i));});}
tabs.forEach(function(g){var bar=document.createElement('div');bar.className='tabs';bar.setAttribute('role','tablist');g.bar=bar;
 g.list.forEach(function(s,i){var b=document.createElement('button');b.type='button';b.setAttribute('role','tab');b.textContent=s.dataset.title||String(i+1);b.addEventListener('click',function(){showTab(g,i);});bar.appendChild(b);});
 g.list[0].parentNode.insertBefore(bar,g.list[0]);showTab(g,0);});
function revealTab(el){tabs.forEach(function(g){g.list.forEach(function(s,i){if(s.contains(el))showTab(g,i);});});}
var timer=null,seq=0;
function visibility(){if(!f.querySelector('[data-cond]'))return;var my=++seq;
 fetch(f.dataset.visibility,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(values())})
 .then(function(r){return r.ok?r.json():null;}).then(function(j){if(!j||my!==seq)return;var h={};(j.hidden||[]).forEach(function(k){h[k]=1;});
  f.querySelectorAll('.f[data-key]').forEach(function(el){el.hidden=!!h[el.dataset.key];});
  f.querySelectorAll('.sec').forEach(function(s){var all=s.querySelectorAll('.f[data-key]'),vis=0;all.forEach(function(el){if(!el.hidden)vis++;});s.hidden=all.length>0&&vis===0;});
  f.dataset.vis=String(my);}).catch(function(){});}
function later(){clearTimeout(timer);timer=setTimeout(visibility,150);}
f.addEventListener('input',later);f.addEventListener('change',later);visibility();
f.addEventListener('submit',function(ev){ev.preventDefault();
 var body=values(),btn=document.getElementById('send');
 if(busy>0){document.getElementById('formerr').textContent=f.dataset.uploading;return;}
 f.querySelectorAll('.err').forEach(function(e){e.textContent='';});f.querySelectorAll('.bad').forEach(function(e){e.classList.remove('bad');});
 document.getElementById('formerr').textContent='';
 f.querySelectorAll('.f[hidden]').forEach(function(el){delete body[el.dataset.key];});
 btn.disabled=true;btn.textContent=f.dataset.sending;
 fetch(f.dataset.action,{method:'POST',headers:{'Content-Type':'application/json','Accept-Language':document.documentElement.lang},body:JSON.stringify(body)})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(j){return {s:r.status,j:j};});})
 .then(function(r){btn.disabled=false;btn.textContent='{{.T.submit}}';
  if(r.s===201){var red=f.dataset.redirect||r.j.redirect;if(red){location.href=red;return;}
   f.hidden=true;var d=document.getElementById('done');d.textContent=r.j.message||f.dataset.success;d.hidden=false;return;}
  var errs=r.j.errors||[],shown=false;
  errs.forEach(function(e){var el=document.getElementById('e-'+e.field);if(el){el.textContent=e.message;document.getElementById('f-'+e.field).classList.add('bad');if(!shown)revealTab(el);shown=true;}});
  if(!shown)document.getElementById('formerr').textContent=r.j.detail||f.dataset.error;})
 .catch(function(){btn.disabled=false;btn.textContent='{{.T.submit}}';document.getElementById('formerr').textContent=f.dataset.error;});
});})();
</script></body></html>`))

// pageFuncs help the page template show defaults: str prints a scalar default, has reports
// whether a default is (or contains) a value, deref prints a bound.
var pageFuncs = template.FuncMap{
	"str": func(v any) string {
		switch x := v.(type) {
		case nil, []any, map[string]any, bool:
			return ""
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return fmt.Sprint(x)
		}
	},
	"has": func(d any, v any) bool {
		if l, ok := d.([]any); ok {
			for _, x := range l {
				if x == v {
					return true
				}
			}
			return false
		}
		return d != nil && d == v
	},
	"deref": func(p *float64) string { return strconv.FormatFloat(*p, 'f', -1, 64) },
	"spans": func() []int {
		out := make([]int, 24)
		for i := range out {
			out[i] = i + 1
		}
		return out
	},
}

// ipLimiter is a fixed-window per-key limiter (per process).
type ipLimiter struct {
	mu   sync.Mutex
	hits map[string]*window
	last time.Time
}

type window struct {
	start time.Time
	n     int
}

func newIPLimiter() *ipLimiter { return &ipLimiter{hits: map[string]*window{}} }

func (l *ipLimiter) allow(key string, max int, per time.Duration) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) > per { // sweep stale windows
		for k, w := range l.hits {
			if now.Sub(w.start) > per {
				delete(l.hits, k)
			}
		}
		l.last = now
	}
	w := l.hits[key]
	if w == nil || now.Sub(w.start) > per {
		w = &window{start: now}
		l.hits[key] = w
	}
	w.n++
	return w.n <= max
}
