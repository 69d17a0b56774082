package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/forms"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// Public upload and lookup limits.
const (
	publicUploadMax  = 10 << 20 // bytes per anonymous upload unless the field or the server allows less
	publicUploadRate = 20       // uploads per IP, form and minute
	publicLookupRate = 120      // lookups per IP, form and minute
)

// tr picks the English or Chinese text.
func tr(locale, en, zh string) string {
	if strings.HasPrefix(locale, "en") {
		return en
	}
	return zh
}

// labels maps the form's field keys to the labels the page shows in locale.
func (pf *publicForm) labels(locale string) map[string]string {
	out := map[string]string{}
	for _, it := range forms.Items(pf.form.Layout) {
		if fd := pf.ent.Field(it.Field); fd != nil {
			out[it.Field] = it.Label.Text(locale, fd.Label.Text(locale, fd.Key))
		}
	}
	return out
}

// oneLanguage keeps the part of a bilingual message "English (中文)" in locale; other messages
// are returned as they are.
func oneLanguage(m, locale string) string {
	i := strings.LastIndex(m, " (")
	if i < 0 || !strings.HasSuffix(m, ")") {
		return m
	}
	zh := m[i+2 : len(m)-1]
	han := false
	for _, r := range zh {
		if unicode.Is(unicode.Han, r) {
			han = true
			break
		}
	}
	if !han {
		return m
	}
	return tr(locale, m[:i], zh)
}

// localizeProblem turns an error of a public form route into a problem in the page's language
// only; field errors of the record validation are prefixed with the form's label of the field
// (labels nil: the messages keep their text).
func localizeProblem(err error, locale string, labels map[string]string) error {
	var p *problem.Problem
	var fe spec.Errors
	switch {
	case errors.As(err, &fe):
		p = problem.Validation(fe)
	case errors.As(err, &p):
	default:
		return err
	}
	out := *p
	out.Detail = oneLanguage(p.Detail, locale)
	if p.Status == fiber.StatusUnprocessableEntity && len(p.Errors) > 0 {
		out.Detail = tr(locale, "please check the highlighted fields", "请检查标出的字段")
	}
	out.Errors = make([]spec.FieldError, len(p.Errors))
	for i, e := range p.Errors {
		m := oneLanguage(e.Message, locale)
		if l := labels[e.Field]; l != "" && !strings.Contains(m, l) {
			m = l + tr(locale, ": ", "：") + m
		}
		e.Message = m
		out.Errors[i] = e
	}
	if len(out.Errors) == 1 {
		out.Detail = out.Errors[0].Message
	}
	return &out
}

// savePublicSubmission validates an anonymous submission against the public form and writes the
// record in one transaction with the claim of its upload tokens: a refused write leaves the
// tokens unused, and a token is used by one submission only.
func (s *Server) savePublicSubmission(ctx context.Context, pf *publicForm, in map[string]any, locale string) (*records.Record, error) {
	values, err := forms.Values(pf.form, pf.ent, in, locale)
	if err != nil {
		return nil, err
	}
	tx, err := s.DB.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("saving submission: %w", err)
	}
	defer tx.Rollback(ctx)
	claim, err := forms.ClaimUploads(ctx, tx, pf.id, pf.ent, values, locale)
	if err != nil {
		return nil, err
	}
	rec, err := s.Records.Create(ctx, pf.app, pf.form.Entity, values, records.WriteOptions{Actor: access.Subject{}, Grant: access.All(),
		Entity: pf.ent, EntityVersion: pf.entVersion, Source: "form:" + pf.form.Slug, Form: pf.form.Slug, Tx: tx, Files: claim.Files})
	if err != nil {
		return nil, recordError(err)
	}
	sid := rec.ID
	if rec.Receipt != nil {
		sid = rec.Receipt.SubmissionID
	}
	if err := claim.Bind(ctx, tx, sid); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("saving submission: %w", err)
	}
	return rec, nil
}

// publicItem finds the shown (not hidden) layout item of field key on the public form.
func (pf *publicForm) publicItem(key string) (*forms.Item, *spec.Field) {
	for _, it := range forms.Items(pf.form.Layout) {
		if it.Field == key && !it.Hidden {
			it := it
			return &it, pf.ent.Field(key)
		}
	}
	return nil, nil
}

// publicFormUpload stores a file an anonymous visitor attaches to an attachment field of a
// public form and answers a one-time token the submission names; the visitor never gets the
// file id and no public route reads files back.
func (s *Server) publicFormUpload(c *fiber.Ctx, lim *ipLimiter) error {
	locale := pageLocale(c)
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return localizeProblem(err, locale, nil)
	}
	if !lim.allow("up|"+c.Params("public_id")+"|"+auth.ClientIP(c), publicUploadRate, time.Minute) {
		c.Set(fiber.HeaderRetryAfter, "60")
		return problem.New(fiber.StatusTooManyRequests, tr(locale, "too many uploads from your address; try again in a minute", "上传过于频繁，请稍后再试"))
	}
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
		return problem.New(fiber.StatusUnsupportedMediaType, tr(locale, `send the file as multipart/form-data in the field "file"`, `请以 multipart/form-data 的 "file" 字段上传文件`))
	}
	key := c.FormValue("field")
	it, fd := pf.publicItem(key)
	if it == nil || fd == nil || fd.Type != spec.TypeAttachment {
		return problem.Validation(specErrors("field", "unknown_field", tr(locale, "this form has no such attachment field", "表单中没有这个附件字段")))
	}
	label := it.Label.Text(locale, fd.Label.Text(locale, fd.Key))
	fh, err := c.FormFile("file")
	if err != nil {
		return problem.Validation(specErrors(key, "required", tr(locale, label+": choose a file", label+"：请选择文件")))
	}
	limit := int64(publicUploadMax)
	if s.Cfg.MaxUpload > 0 && s.Cfg.MaxUpload < limit {
		limit = s.Cfg.MaxUpload
	}
	if fd.MaxSize > 0 && fd.MaxSize < limit {
		limit = fd.MaxSize
	}
	tooLarge := problem.New(fiber.StatusRequestEntityTooLarge, tr(locale, fmt.Sprintf("%s: the file is larger than %s", label, sizeText(limit)),
		fmt.Sprintf("%s：文件超过 %s", label, sizeText(limit)))).WithCode("file_size")
	if fh.Size > limit {
		return tooLarge
	}
	up, err := openUpload(fh)
	if err != nil {
		return err
	}
	defer up.src.Close()
	name, typ := up.name, up.typ
	if typ == "" || (len(fd.Accept) > 0 && !records.Accepts(fd.Accept, typ, name)) {
		return problem.New(fiber.StatusUnsupportedMediaType, tr(locale, label+": this file type is not accepted here", label+"：不支持此文件类型")).WithCode("file_type")
	}
	id, size, _, _, err := s.storeUpload(c.UserContext(), up.src, up.head, name, typ, nil, limit)
	if errors.Is(err, errTooLarge) {
		return tooLarge
	}
	if err != nil {
		return err
	}
	tok, err := forms.IssueUpload(c.UserContext(), s.DB.Pool, pf.id, key, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": tok, "name": name, "type": typ, "size": size})
}

// sizeText prints a byte count as KB or MB.
func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%g MB", float64(n*10>>20)/10)
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}

// publicFormLookup searches the records a relation field of a public form exposes, answering
// only the fields the form owner chose.
func (s *Server) publicFormLookup(c *fiber.Ctx, lim *ipLimiter) error {
	locale := pageLocale(c)
	pf, err := s.loadPublicForm(c)
	if err != nil {
		return localizeProblem(err, locale, nil)
	}
	it, fd := pf.publicItem(c.Params("field"))
	if it == nil || fd == nil || fd.Type != spec.TypeRelation || len(it.Lookup) == 0 {
		return problem.NotFound(tr(locale, "this form has no such lookup", "表单中没有这个查找字段"))
	}
	if !lim.allow("lk|"+c.Params("public_id")+"|"+auth.ClientIP(c), publicLookupRate, time.Minute) {
		c.Set(fiber.HeaderRetryAfter, "60")
		return problem.New(fiber.StatusTooManyRequests, tr(locale, "too many searches from your address; try again in a minute", "搜索过于频繁，请稍后再试"))
	}
	target := fd.Target
	if target == "" {
		target = pf.ent.Slug
	}
	tent, _, err := s.Defs.Entity(c.UserContext(), pf.app.ID, target)
	if err != nil {
		return problem.NotFound(tr(locale, "this form has no such lookup", "表单中没有这个查找字段"))
	}
	hits, err := forms.Lookup(c.UserContext(), s.DB.Pool, pf.app.ID, tent, it.Lookup, c.Query("q"), locale)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": hits})
}
