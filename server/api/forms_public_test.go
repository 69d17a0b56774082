package api_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/runtime/forms"

	"github.com/tessera/tessera/server/apitest"
)

const pubProduct = `{"slug":"product","label":{"en":"Product","zh-CN":"产品"},"fields":[{"key":"name","type":"text","label":{"en":"Name","zh-CN":"名称"}},
{"key":"secret","type":"text"},{"key":"kind","type":"select","options":[{"value":"hw","label":{"en":"Hardware","zh-CN":"硬件"}}]}]}`

const pubTicket = `{"slug":"ticket","label":{"en":"Ticket","zh-CN":"工单"},"fields":[
{"key":"issue","type":"text","label":{"en":"Issue","zh-CN":"问题"}},
{"key":"kind","type":"select","options":["hardware","other"]},
{"key":"detail","type":"text"},
{"key":"email","type":"email","label":{"en":"Email","zh-CN":"邮箱"}},
{"key":"photo","type":"attachment","accept":["image/*"],"max_size":2000,"multiple":true},
{"key":"product","type":"relation","target":"product"},
{"key":"agent","type":"user"}]}`

// pubForm is the public form with the given relation item and an extra item.
func pubForm(product, extra string) string {
	return `{"slug":"report","entity":"ticket","public":true,"layout":[
{"field":"issue","required":true,"label":{"en":"Describe the issue","zh-CN":"问题描述"}},
{"section":{"en":"Details","zh-CN":"详情"},"columns":2,"items":[{"field":"kind"},{"field":"photo"},{"field":"email"}]},
{"field":"detail","visible":"record.kind == \"other\""},` + product + extra + `]}`
}

// publicUpload posts a multipart upload to a public form as an anonymous visitor.
func publicUpload(t *testing.T, e *apitest.Env, pid, field, name string, content []byte, lang string) *apitest.Resp {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if field != "" {
		_ = mw.WriteField("field", field)
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/public/forms/"+pid+"/uploads", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", lang)
	res, err := e.Srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &apitest.Resp{Status: res.StatusCode, Header: map[string]string{"Content-Type": res.Header.Get("Content-Type")}, Body: body}
}

func png(n int) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, n)...)
}

var han = regexp.MustCompile(`\p{Han}`)

func setupPublicTicket(t *testing.T) (*apitest.Env, string) {
	e := apitest.New(t)
	tok := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "pub", "name": "Pub"}, tok)
	putDef(t, e, "/api/v1/apps/pub/entities/product", pubProduct)
	e.Must(200, "POST", "/api/v1/apps/pub/entities/product/publish", nil, tok)
	putDef(t, e, "/api/v1/apps/pub/entities/ticket", pubTicket)
	e.Must(200, "POST", "/api/v1/apps/pub/entities/ticket/publish", nil, tok)
	putDef(t, e, "/api/v1/apps/pub/forms/report", pubForm(`{"field":"product","lookup":["name"]}`, ""))
	e.Must(200, "POST", "/api/v1/apps/pub/forms/report/publish", nil, tok)
	pid, _ := e.Must(200, "GET", "/api/v1/apps/pub/forms/report", nil, tok).JSON()["public_id"].(string)
	if pid == "" {
		t.Fatal("no public id")
	}
	return e, pid
}

// TestPublicFormUploads checks anonymous uploads: the limits answer 413/415/422 problem+json,
// the answer is a token (never the file id), the token attaches the file to one submission only
// (a refused submission leaves it unused; reuse, forged tokens and raw file ids are refused), and
// an anonymous caller cannot read the file back.
func TestPublicFormUploads(t *testing.T) {
	e, pid := setupPublicTicket(t)
	sub := "/api/v1/public/forms/" + pid + "/submit"

	for _, c := range []struct {
		name, field, file string
		content           []byte
		lang              string
		status            int
		want              string
	}{
		{"too large for the field", "photo", "big.png", png(3000), "en", 413, "larger than 2 KB"},
		{"too large, Chinese page", "photo", "big.png", png(3000), "zh-CN", 413, "文件超过"},
		{"type not allowed at all", "photo", "run.exe", []byte("MZ\x90\x00"), "en", 415, "not accepted"},
		{"type the field does not accept", "photo", "notes.txt", []byte("hello"), "en", 415, "not accepted"},
		{"content does not match the name", "photo", "fake.png", []byte("just text"), "zh-CN", 415, "不支持"},
		{"not an attachment field", "issue", "a.png", png(10), "en", 422, `"field":"field"`},
		{"unknown field", "nope", "a.png", png(10), "en", 422, `"field":"field"`},
		{"no file", "photo", "", nil, "en", 422, `"field":"photo"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := publicUpload(t, e, pid, c.field, c.file, c.content, c.lang)
			if r.Status != c.status || !strings.Contains(string(r.Body), c.want) || !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Fatalf("want %d %q, got %d %s %s", c.status, c.want, r.Status, r.Header["Content-Type"], r.Body)
			}
			if c.lang == "en" && han.Match(r.Body) || c.lang == "zh-CN" && strings.Contains(string(r.Body), "not accepted") {
				t.Fatalf("mixed languages: %s", r.Body)
			}
		})
	}
	if r := e.Do("POST", "/api/v1/public/forms/"+pid+"/uploads", `{"field":"photo"}`, ""); r.Status != 415 {
		t.Fatalf("JSON upload: %d %s", r.Status, r.Body)
	}
	if r := publicUpload(t, e, "nosuchform", "photo", "a.png", png(10), "en"); r.Status != 404 {
		t.Fatalf("upload to an unknown form: %d", r.Status)
	}

	up := publicUpload(t, e, pid, "photo", "photo.png", png(100), "en")
	if up.Status != 201 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	tokA, _ := up.JSON()["token"].(string)
	if tokA == "" || up.JSON()["id"] != nil || up.JSON()["name"] != "photo.png" {
		t.Fatalf("upload answer: %s", up.Body)
	}

	// a refused submission (the required issue is missing) leaves the token unused
	r := e.Do("POST", sub, map[string]any{"photo": []any{map[string]any{"token": tokA}}}, "", "Accept-Language: en")
	if r.Status != 422 || !strings.Contains(string(r.Body), "Describe the issue is required") || han.Match(r.Body) {
		t.Fatalf("missing issue: %d %s", r.Status, r.Body)
	}
	ok := e.Must(201, "POST", sub, map[string]any{"issue": "broken", "kind": "hardware", "photo": []any{map[string]any{"token": tokA}}}, "")
	if ok.JSON()["id"] == nil {
		t.Fatalf("submission answer: %s", ok.Body)
	}
	var sid string
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT id::text FROM records WHERE entity = 'ticket' AND data->>'issue' = 'broken'`).Scan(&sid); err != nil {
		t.Fatal(err)
	}

	// the record holds the file (as admin); the file is attached, readable by the admin only
	rec := e.Must(200, "GET", "/api/v1/apps/pub/entities/ticket/records/"+sid, nil, e.AdminToken).JSON()
	photos, _ := rec["data"].(map[string]any)["photo"].([]any)
	if len(photos) != 1 {
		t.Fatalf("record photo: %v", rec["data"])
	}
	fid, _ := photos[0].(map[string]any)["id"].(string)
	if photos[0].(map[string]any)["name"] != "photo.png" || fid == "" {
		t.Fatalf("record photo: %v", photos)
	}
	e.Must(200, "GET", "/api/v1/files/"+fid, nil, e.AdminToken)
	if r := e.Do("GET", "/api/v1/files/"+fid, nil, ""); r.Status != 401 {
		t.Fatalf("anonymous read of the file: %d", r.Status)
	}
	for _, p := range []string{"/api/v1/public/forms/" + pid + "/uploads", "/api/v1/public/forms/" + pid + "/uploads/" + tokA, "/api/v1/public/files/" + fid} {
		if r := e.Do("GET", p, nil, ""); r.Status != 404 && r.Status != 405 && r.Status != 401 {
			t.Fatalf("anonymous GET %s: %d %s", p, r.Status, r.Body)
		}
	}

	// the token was used: a second submission cannot attach it; nor a forged token or a raw id
	for _, c := range []struct {
		name  string
		photo any
		code  string
	}{
		{"reused token", []any{map[string]any{"token": tokA}}, "upload_invalid"},
		{"forged token", []any{map[string]any{"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}, "upload_invalid"},
		{"raw file id", []any{map[string]any{"id": fid}}, "invalid_upload"},
		{"not a list", "x", "invalid_type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do("POST", sub, map[string]any{"issue": "again", "photo": c.photo}, "", "Accept-Language: zh-CN")
			if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"photo"`) || !strings.Contains(string(r.Body), c.code) || strings.Contains(string(r.Body), "upload the file") {
				t.Fatalf("want 422 %s, got %d %s", c.code, r.Status, r.Body)
			}
		})
	}
	var n int
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM records WHERE entity = 'ticket'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("records written: %d %v", n, err)
	}

	// a token is bound to its form: another public form of the app cannot use it
	putDef(t, e, "/api/v1/apps/pub/forms/other", `{"slug":"other","entity":"ticket","public":true,"layout":[{"field":"issue"},{"field":"photo"}]}`)
	e.Must(200, "POST", "/api/v1/apps/pub/forms/other/publish", nil, e.AdminToken)
	pid2, _ := e.Must(200, "GET", "/api/v1/apps/pub/forms/other", nil, e.AdminToken).JSON()["public_id"].(string)
	tokB, _ := publicUpload(t, e, pid, "photo", "b.png", png(10), "en").JSON()["token"].(string)
	if r := e.Do("POST", "/api/v1/public/forms/"+pid2+"/submit", map[string]any{"issue": "x", "photo": []any{map[string]any{"token": tokB}}}, ""); r.Status != 422 || !strings.Contains(string(r.Body), "upload_invalid") {
		t.Fatalf("token of another form: %d %s", r.Status, r.Body)
	}
}

// TestPublicFormRelationExposure checks that a relation (or another field a visitor cannot fill)
// on a public form is refused at publish unless the owner exposes fields of the linked records,
// that the lookup answers only those fields, and that the page renders every published field.
func TestPublicFormRelationExposure(t *testing.T) {
	e, pid := setupPublicTicket(t)
	tok := e.AdminToken
	for _, c := range []struct{ name, product, extra, field, code string }{
		{"relation without exposed fields", `{"field":"product"}`, "", "layout[3].lookup", "not_exposed"},
		{"exposed field unknown", `{"field":"product","lookup":["nope"]}`, "", "layout[3].lookup[0]", "unknown_field"},
		{"lookup on a text field", `{"field":"product","lookup":["name"]}`, `,{"field":"agent"}`, "layout[4].field", "not_public"},
	} {
		t.Run(c.name, func(t *testing.T) {
			putDef(t, e, "/api/v1/apps/pub/forms/report", pubForm(c.product, c.extra))
			r := e.Do("POST", "/api/v1/apps/pub/forms/report/publish", nil, tok)
			if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) || !strings.Contains(string(r.Body), c.code) {
				t.Fatalf("want 422 at %s, got %d %s", c.field, r.Status, r.Body)
			}
		})
	}
	// a hidden relation is fine; so is the exposed one that is published
	putDef(t, e, "/api/v1/apps/pub/forms/report", pubForm(`{"field":"product","lookup":["name"]}`, ""))

	base := "/api/v1/apps/pub/entities/product/records"
	w1, _ := e.Must(201, "POST", base, map[string]any{"name": "Widget", "secret": "s3cret-w", "kind": "hw"}, tok).JSON()["id"].(string)
	e.Must(201, "POST", base, map[string]any{"name": "Gadget", "secret": "s3cret-g"}, tok)
	e.Must(201, "POST", base, map[string]any{"name": "100%_off", "secret": "s3cret-p"}, tok)
	look := "/api/v1/public/forms/" + pid + "/lookup/product"
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"", []string{"100%_off", "Gadget", "Widget"}},
		{"wid", []string{"Widget"}},
		{"%", []string{"100%_off"}},
		{"_", []string{"100%_off"}},
		{"s3cret", nil},
	} {
		r := e.Must(200, "GET", look+"?q="+strings.ReplaceAll(c.q, "%", "%25"), nil, "")
		if strings.Contains(string(r.Body), "s3cret") || strings.Contains(string(r.Body), "hw") {
			t.Fatalf("lookup leaks an unexposed field: %s", r.Body)
		}
		items, _ := r.JSON()["items"].([]any)
		var got []string
		for _, it := range items {
			got = append(got, it.(map[string]any)["label"].(string))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Fatalf("lookup %q: %v, want %v", c.q, got, c.want)
		}
	}
	for _, p := range []string{"/api/v1/public/forms/" + pid + "/lookup/issue", "/api/v1/public/forms/" + pid + "/lookup/agent", "/api/v1/public/forms/nosuch/lookup/product"} {
		if r := e.Do("GET", p, nil, ""); r.Status != 404 {
			t.Fatalf("lookup %s: %d", p, r.Status)
		}
	}

	// the page renders the relation, the attachment, the section and the conditional field
	page := string(e.Must(200, "GET", "/f/"+pid+"?lang=en", nil, "").Body)
	for _, want := range []string{`data-lookup="product"`, `data-up="photo"`, `accept="image/*"`, `<h2>Details</h2>`, `id="f-detail" data-key="detail" data-cond="1"`, `class="f w24" id="f-issue"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %s", want)
		}
	}
	// a record-level error carries the form's label, in the page's language only
	sub := "/api/v1/public/forms/" + pid + "/submit"
	for _, c := range []struct{ lang, want, not string }{
		{"en", "Email: ", "邮箱"},
		{"zh-CN", "邮箱", "Email"},
	} {
		r := e.Do("POST", sub, map[string]any{"issue": "x", "email": "not-an-email"}, "", "Accept-Language: "+c.lang)
		if r.Status != 422 || !strings.Contains(string(r.Body), c.want) || strings.Contains(string(r.Body), c.not) {
			t.Fatalf("%s: %d %s", c.lang, r.Status, r.Body)
		}
	}
	e.Must(201, "POST", sub, map[string]any{"issue": "with product", "product": w1}, "")
	var got string
	if err := e.DB.Pool.QueryRow(t.Context(), `SELECT data->>'product' FROM records WHERE entity = 'ticket' AND data->>'issue' = 'with product'`).Scan(&got); err != nil || got != w1 {
		t.Fatalf("relation not saved: %q %v", got, err)
	}
}

// TestUnclaimedUploadsAreSwept checks that a public upload no submission claimed within the
// token's lifetime is deleted (token, file row and file on disk) while a claimed one stays.
func TestUnclaimedUploadsAreSwept(t *testing.T) {
	e, pid := setupPublicTicket(t)
	ctx := t.Context()
	kept, _ := publicUpload(t, e, pid, "photo", "kept.png", png(50), "en").JSON()["token"].(string)
	lost, _ := publicUpload(t, e, pid, "photo", "lost.png", png(60), "en").JSON()["token"].(string)
	fresh, _ := publicUpload(t, e, pid, "photo", "fresh.png", png(70), "en").JSON()["token"].(string)
	if kept == "" || lost == "" || fresh == "" {
		t.Fatal("upload failed")
	}
	e.Must(201, "POST", "/api/v1/public/forms/"+pid+"/submit", map[string]any{"issue": "kept", "kind": "hardware", "photo": []any{map[string]any{"token": kept}}}, "")
	fileOf := func(name string) (id, path string) {
		t.Helper()
		if err := e.DB.Pool.QueryRow(ctx, `SELECT id::text, path FROM files WHERE name = $1`, name).Scan(&id, &path); err != nil {
			t.Fatalf("file %s: %v", name, err)
		}
		return id, path
	}
	keptID, keptPath := fileOf("kept.png")
	_, lostPath := fileOf("lost.png")
	fileOf("fresh.png")
	dir := filepath.Join(e.Cfg.DataDir, "files")
	if _, err := os.Stat(filepath.Join(dir, lostPath)); err != nil {
		t.Fatalf("the upload is not where the sweep looks: %v", err)
	}
	// the kept and the lost uploads are older than the token's lifetime; fresh is not
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE form_uploads u SET created_at = now() - interval '25 hours'
		FROM files f WHERE f.id = u.file_id AND f.name IN ('kept.png', 'lost.png')`); err != nil {
		t.Fatal(err)
	}
	n, err := e.Srv.SweepUploads(ctx, time.Now().Add(-forms.UploadTTL))
	if err != nil || n != 1 {
		t.Fatalf("swept %d files (%v), want 1", n, err)
	}
	var left []string
	rows, _ := e.DB.Pool.Query(ctx, `SELECT name FROM files ORDER BY name`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		left = append(left, s)
	}
	rows.Close()
	if strings.Join(left, ",") != "fresh.png,kept.png" {
		t.Fatalf("files left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, lostPath)); !os.IsNotExist(err) {
		t.Fatalf("the unclaimed file is still on disk: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keptPath)); err != nil {
		t.Fatalf("the claimed file went: %v", err)
	}
	e.Must(200, "GET", "/api/v1/files/"+keptID, nil, e.AdminToken)
	// the swept token no longer attaches anything
	if r := e.Do("POST", "/api/v1/public/forms/"+pid+"/submit", map[string]any{"issue": "late", "photo": []any{map[string]any{"token": lost}}}, ""); r.Status != 422 || !strings.Contains(string(r.Body), "upload_invalid") {
		t.Fatalf("swept token: %d %s", r.Status, r.Body)
	}
	// a second sweep finds nothing
	if n, err := e.Srv.SweepUploads(ctx, time.Now().Add(-forms.UploadTTL)); err != nil || n != 0 {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}
