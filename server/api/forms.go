package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// Public form limits.
const (
	publicFormBodyLimit = 64 << 10 // bytes per public submission
	publicFormRate      = 30       // submissions per IP and minute unless the form says otherwise
	honeypotKey         = "_hp"    // a field people never see; bots fill it
	consentKey          = "consent"
)

// utmKeys are captured from the page's query string into fields of the same name.
var utmKeys = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// mountForms registers the forms routes.
func (s *Server) mountForms() error {
	lim := newIPLimiter()
	s.route(fiber.MethodPost, "/api/v1/apps/:app/forms/:form/submit", "forms", "Submit a form (authenticated)", s.submitForm)
	s.route(fiber.MethodGet, "/f/:public_id", "forms", "Public form page", s.publicFormPage)
	s.route(fiber.MethodGet, "/api/v1/public/forms/:public_id", "forms", "Public form definition (no auth)", s.publicFormJSON)
	s.route(fiber.MethodPost, "/api/v1/public/forms/:public_id/submit", "forms", "Submit a public form (no auth; honeypot, per-IP rate limit, 64 KiB)",
		func(c *fiber.Ctx) error { return s.submitPublicForm(c, lim) })
	return nil
}

// formFields lists the field keys of a form layout (sections included), in order.
func formFields(items []spec.FormItem) []spec.FormItem {
	var out []spec.FormItem
	for _, it := range items {
		if it.Field != "" {
			out = append(out, it)
		}
		out = append(out, formFields(it.Items)...)
	}
	return out
}

// blankValue reports whether v leaves field k empty: missing, null, blank text or an empty list,
// also once normalised (spaces only, "" in a list), or false for a boolean field (a required
// checkbox, such as a PIPL consent field, must be ticked; the page sends false when it is not).
// A value that does not normalise is not blank: the record validation reports it.
func blankValue(ent *spec.Entity, k string, v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		if strings.TrimSpace(x) == "" {
			return true
		}
	case []any:
		if len(x) == 0 {
			return true
		}
	}
	fd := ent.Field(k)
	if fd == nil {
		return false
	}
	var nerrs spec.Errors
	nv := records.Normalize(fd, v, k, &nerrs)
	if len(nerrs) > 0 {
		return false
	}
	switch x := nv.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case bool:
		return !x
	}
	return false
}

// formValues checks and completes the submitted values of form f over entity ent: only layout
// fields, defaults and hidden/UTM fields are accepted; defaults fill what is missing; form
// rules (hide/show/require) and per-item required apply. Meta keys (honeypot, consent) are
// removed first.
func formValues(f *spec.Form, ent *spec.Entity, in map[string]any) (map[string]any, error) {
	var errs spec.Errors
	consent, _ := in[consentKey].(bool)
	if _, isField := in[consentKey]; isField && ent.Field(consentKey) == nil {
		delete(in, consentKey)
	}
	delete(in, honeypotKey)
	allowed := map[string]bool{}
	required := map[string]bool{}
	for _, it := range formFields(f.Layout) {
		allowed[it.Field] = true
		if it.Required {
			required[it.Field] = true
		}
	}
	for k := range f.Defaults {
		allowed[k] = true
	}
	hidden := map[string]bool{}
	for _, k := range append(append([]string{}, f.Hidden...), utmKeys...) {
		hidden[k] = true
	}
	out := map[string]any{}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	inLayout := map[string]bool{}
	for _, it := range formFields(f.Layout) {
		inLayout[it.Field] = true
	}
	for _, k := range keys {
		switch {
		case f.Defaults[k] != nil && !inLayout[k]:
			// a default outside the layout is set by the server (source, campaign): the
			// submitter cannot override it
			continue
		case allowed[k]:
			out[k] = in[k]
		case hidden[k]:
			if ent.Field(k) != nil { // hidden parameters without a field are dropped
				out[k] = in[k]
			}
		default:
			errs.Add(k, "unknown_field", "unknown field %q (未知字段)", k)
		}
	}
	for k, v := range f.Defaults {
		if cur, ok := out[k]; (!ok || cur == nil || cur == "") && ent.Field(k) != nil {
			out[k] = v
		}
	}
	// rules see the values as the record will hold them (numbers as numbers, phones in E.164)
	norm := map[string]any{}
	for k, v := range out {
		if fd := ent.Field(k); fd != nil {
			var nerrs spec.Errors
			if nv := records.Normalize(fd, v, k, &nerrs); len(nerrs) == 0 && nv != nil {
				norm[k] = nv
			}
		}
	}
	for _, r := range f.Rules {
		if r.Field == "" || r.When == "" {
			continue
		}
		res, err := expr.Eval(r.When, map[string]any{"record": norm, "values": norm})
		holds, _ := res.(bool)
		if err != nil {
			holds = false
		}
		switch r.Then {
		case "hide":
			if holds {
				delete(out, r.Field)
			}
		case "show":
			if !holds {
				delete(out, r.Field)
			}
		case "require":
			if holds {
				required[r.Field] = true
			}
		}
	}
	for k := range required {
		if blankValue(ent, k, out[k]) {
			errs.Add(k, "required", "%s is required (必填)", k)
		}
	}
	if f.Consent != nil && !consent {
		errs.Add(consentKey, "required", "please accept the privacy notice (请同意隐私声明)")
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	return out, nil
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

func (s *Server) submitForm(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	app, err := s.readableApp(ctx, p, c.Params("app"), problem.NotFound("app not found (应用不存在)"))
	if err != nil {
		return err
	}
	form, _, err := s.Defs.Form(ctx, app.ID, c.Params("form"))
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("form not found (表单不存在)")
	}
	if err != nil {
		return err
	}
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
	rec, err := s.saveSubmission(ctx, app, form, in, records.WriteOptions{Actor: p.Subject(), Grant: g})
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
func (s *Server) saveSubmission(ctx context.Context, app *defs.App, form *spec.Form, in map[string]any, w records.WriteOptions) (*records.Record, error) {
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
	values, err := formValues(form, ent, in)
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
	err := s.DB.Pool.QueryRow(ctx, `SELECT a.id, a.slug, a.name, a.settings, f.slug, f.published_version, fv.body->>'entity', e.published_version
		FROM definitions f JOIN apps a ON a.id = f.app_id
		JOIN definition_versions fv ON fv.definition_id = f.id AND fv.version = f.published_version
		LEFT JOIN definitions e ON e.app_id = f.app_id AND e.kind = 'entities' AND e.slug = fv.body->>'entity'
		WHERE f.public_id = $1 AND f.kind = 'forms' AND f.published_version > 0`, c.Params("public_id")).
		Scan(&app.ID, &app.Slug, &app.Name, &app.Settings, &formSlug, &formVer, &entSlug, &entVer)
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
	return &publicForm{app: app, form: form, ent: ent, entVersion: *entVer}, nil
}

func (s *Server) submitPublicForm(c *fiber.Ctx, lim *ipLimiter) error {
	if len(c.Body()) > publicFormBodyLimit {
		return problem.New(fiber.StatusRequestEntityTooLarge, "the submission is larger than 64 KiB (提交内容过大)")
	}
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return err
	}
	form := pf.form
	rate := publicFormRate
	if form.RateLimit > 0 {
		rate = form.RateLimit
	}
	if !lim.allow(c.Params("public_id")+"|"+auth.ClientIP(c), rate, time.Minute) {
		c.Set(fiber.HeaderRetryAfter, "60")
		return problem.New(fiber.StatusTooManyRequests, "too many submissions from your address; try again in a minute (提交过于频繁，请稍后再试)")
	}
	in, err := readValues(c, publicFormBodyLimit)
	if err != nil {
		return err
	}
	locale := "zh-CN"
	if strings.HasPrefix(c.Get(fiber.HeaderAcceptLanguage), "en") {
		locale = "en"
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
	rec, err := s.saveSubmission(c.UserContext(), pf.app, form, in, records.WriteOptions{Actor: access.Subject{}, Grant: access.All(),
		Entity: pf.ent, EntityVersion: pf.entVersion})
	if err != nil {
		return err
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
	}
	return "" // not offered on public forms (users, relations, files, computed fields)
}

// publicFields builds the inputs of a form in locale.
func publicFields(f *spec.Form, ent *spec.Entity, locale string) []publicField {
	var out []publicField
	var walk func(items []spec.FormItem, section string)
	walk = func(items []spec.FormItem, section string) {
		for _, it := range items {
			if len(it.Section) > 0 {
				section = it.Section.Text(locale, "")
			}
			if it.Field != "" && !it.Hidden {
				fd := ent.Field(it.Field)
				if fd == nil || inputType(fd.Type) == "" {
					continue
				}
				label := it.Label.Text(locale, fd.Label.Text(locale, fd.Key))
				pf := publicField{Key: fd.Key, Type: fd.Type, Input: inputType(fd.Type), Label: label, Section: section,
					Placeholder: it.Placeholder.Text(locale, ""), Help: it.Help.Text(locale, fd.Help.Text(locale, "")),
					Required: it.Required || fd.Required, Width: it.Width}
				for _, o := range fd.Options {
					pf.Options = append(pf.Options, option{Value: o.Value, Label: o.Label.Text(locale, o.Value)})
				}
				out = append(out, pf)
			}
			walk(it.Items, section)
		}
	}
	walk(f.Layout, "")
	return out
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
		"hidden": hiddenParams(form), "consent": consentText(form, locale)})
}

func consentText(f *spec.Form, locale string) string {
	if f.Consent == nil {
		return ""
	}
	return f.Consent.Text(locale, "")
}

var pageText = map[string]map[string]string{
	"zh-CN": {"submit": "提交", "sending": "提交中…", "error": "提交失败，请检查后重试", "required": "必填", "lang": "zh-CN", "other": "English", "otherLang": "en"},
	"en":    {"submit": "Submit", "sending": "Sending…", "error": "Please check the form and try again", "required": "required", "lang": "en", "other": "中文", "otherLang": "zh-CN"},
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
		"Title":    form.Title.Text(locale, ent.Label.Text(locale, form.Slug)),
		"Fields":   publicFields(form, ent, locale),
		"Hidden":   hidden,
		"Consent":  consentText(form, locale),
		"Action":   "/api/v1/public/forms/" + c.Params("public_id") + "/submit",
		"Success":  successMessage(form, locale),
		"Redirect": redirect,
		"T":        pageText[locale],
		"Nonce":    n,
		"Honeypot": honeypotKey,
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

var formPage = template.Must(template.New("form").Parse(`<!doctype html>
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
</style></head><body><main>
<a class="lang" href="?lang={{.T.otherLang}}">{{.T.other}}</a>
<h1>{{.Title}}</h1>
<form id="tf" novalidate data-action="{{.Action}}" data-success="{{.Success}}" data-redirect="{{.Redirect}}" data-sending="{{.T.sending}}" data-error="{{.T.error}}">
{{$sec := ""}}{{range .Fields}}{{if and .Section (ne .Section $sec)}}<h2>{{.Section}}</h2>{{$sec = .Section}}{{end}}
<div class="f" id="f-{{.Key}}"><label class="l" for="i-{{.Key}}">{{.Label}}{{if .Required}}<span class="req" title="{{$.T.required}}">*</span>{{end}}</label>
{{if eq .Input "textarea"}}<textarea id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}" placeholder="{{.Placeholder}}"{{if .Required}} required{{end}}></textarea>
{{else if eq .Input "select"}}<select id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}"{{if .Required}} required{{end}}><option value=""></option>{{range .Options}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select>
{{else if eq .Input "checkboxes"}}<div id="i-{{.Key}}">{{$k := .Key}}{{range .Options}}<label class="opt"><input type="checkbox" name="{{$k}}" value="{{.Value}}" data-type="multiselect"> {{.Label}}</label>{{end}}</div>
{{else if eq .Input "checkbox"}}<input type="checkbox" id="i-{{.Key}}" name="{{.Key}}" data-type="boolean">
{{else}}<input type="{{.Input}}" id="i-{{.Key}}" name="{{.Key}}" data-type="{{.Type}}" placeholder="{{.Placeholder}}"{{if eq .Input "number"}} step="any"{{end}}{{if .Required}} required{{end}}>{{end}}
{{if .Help}}<div class="help">{{.Help}}</div>{{end}}<div class="err" id="e-{{.Key}}"></div></div>
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
f.addEventListener('submit',function(ev){ev.preventDefault();
 var body={},btn=document.getElementById('send');
 f.querySelectorAll('.err').forEach(function(e){e.textContent='';});f.querySelectorAll('.bad').forEach(function(e){e.classList.remove('bad');});
 document.getElementById('formerr').textContent='';
 f.querySelectorAll('[name]').forEach(function(el){var t=el.dataset.type,n=el.name;
  if(t==='multiselect'){body[n]=body[n]||[];if(el.checked)body[n].push(el.value);return;}
  if(t==='boolean'){body[n]=el.checked;return;}
  if(el.value==='')return;
  if(t==='number'||t==='money'||t==='percent'){var x=Number(el.value);body[n]=isNaN(x)?el.value:x;return;}
  if(t==='datetime'){var d=new Date(el.value);body[n]=isNaN(d)?el.value:d.toISOString();return;}
  body[n]=el.value;});
 btn.disabled=true;btn.textContent=f.dataset.sending;
 fetch(f.dataset.action,{method:'POST',headers:{'Content-Type':'application/json','Accept-Language':document.documentElement.lang},body:JSON.stringify(body)})
 .then(function(r){return r.json().catch(function(){return {};}).then(function(j){return {s:r.status,j:j};});})
 .then(function(r){btn.disabled=false;btn.textContent='{{.T.submit}}';
  if(r.s===201){var red=f.dataset.redirect||r.j.redirect;if(red){location.href=red;return;}
   f.hidden=true;var d=document.getElementById('done');d.textContent=r.j.message||f.dataset.success;d.hidden=false;return;}
  var errs=r.j.errors||[],shown=false;
  errs.forEach(function(e){var el=document.getElementById('e-'+e.field);if(el){el.textContent=e.message;document.getElementById('f-'+e.field).classList.add('bad');shown=true;}});
  if(!shown)document.getElementById('formerr').textContent=r.j.detail||f.dataset.error;})
 .catch(function(){btn.disabled=false;btn.textContent='{{.T.submit}}';document.getElementById('formerr').textContent=f.dataset.error;});
});})();
</script></body></html>`))

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
