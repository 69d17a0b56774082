package api_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tessera/tessera/server/apitest"
)

func TestImportRecords(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/templates/sales/install", nil, e.AdminToken)
	_, repTok := e.CreateUser("viewer@example.com", "Viewer", nil)
	base := "/api/v1/apps/sales/entities/lead/import"
	good := "姓名,手机,邮箱,来源渠道,线索评分\n李四,139 0013 9000,li@example.com,官网表单,40\n王五,13700137000,,转介绍,10\n"
	cases := []struct {
		name, path, body, ct, token string
		want                        int
		contains                    string
	}{
		{"anonymous", base, good, "text/csv", "", 401, ""},
		{"no role in the app", base, good, "text/csv", repTok, 404, ""},
		{"unknown column", base, "name,colour\n李四,red\n", "text/csv", e.AdminToken, 422, `"header[1]"`},
		{"bad content type", base, good, "application/xml", e.AdminToken, 415, ""},
		{"bad mode", base + "?mode=some", good, "text/csv", e.AdminToken, 422, `"mode"`},
		{"one bad row rolls back all", base, "姓名,手机\n赵六,13600136000\n,12\n", "text/csv", e.AdminToken, 422, `"rows[1].phone"`},
		{"good csv with labels", base, good, "text/csv", e.AdminToken, 201, `"created":2`},
		{"same rows again merge", base, good, "text/csv", e.AdminToken, 201, `"merged":2`},
		{"partial mode keeps good rows", base + "?mode=partial", "name,phone\n孙七,13500135000\n,abc\n", "text/csv", e.AdminToken, 207, `"failed":1`},
		{"json array", base, `[{"name":"周八","phone":"13400134000"}]`, "application/json", e.AdminToken, 201, `"created":1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", tc.path, []byte(tc.body), tc.token, "Content-Type: "+tc.ct)
			if r.Status != tc.want || !strings.Contains(string(r.Body), tc.contains) {
				t.Fatalf("status %d (want %d), body %s (want %s)", r.Status, tc.want, r.Body, tc.contains)
			}
		})
	}
	// 赵六 from the rolled-back import must not exist; 孙七 from the partial one must.
	list := string(e.Must(200, "GET", "/api/v1/apps/sales/entities/lead/records?limit=100", nil, e.AdminToken).Body)
	if strings.Contains(list, "赵六") || !strings.Contains(list, "孙七") || !strings.Contains(list, "+8613900139000") || !strings.Contains(list, `"source":"web"`) {
		t.Fatalf("records after imports: %s", list)
	}

	// Multipart upload, as the UI sends it; the stage gate holds on imports too.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "deals.csv")
	io.WriteString(fw, "name,stage\n闸门测试,negotiation\n")
	mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/apps/sales/entities/deal/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.AdminToken)
	res, err := e.Srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 422 || !strings.Contains(string(body), "请上传带客户名称的正式报价单") {
		t.Fatalf("multipart import past the stage gate: %d %s", res.StatusCode, body)
	}
}

// TestImportHiddenColumnsAndTypes checks that a hidden field is an unknown column (the same
// answer as a name that is no field), that two columns for one field are refused, and that a
// percent cell keeps the number before the sign, as the record API does.
func TestImportHiddenColumnsAndTypes(t *testing.T) {
	e := apitest.New(t)
	adm := e.AdminToken
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "imp", "name": "Imp"}, adm)
	e.Must(201, "PUT", "/api/v1/apps/imp/entities/lead", map[string]any{"slug": "lead", "fields": []any{
		map[string]any{"key": "name", "type": "text"},
		map[string]any{"key": "pct", "type": "percent"},
		map[string]any{"key": "cost", "type": "money", "label": map[string]any{"en": "Cost", "zh-CN": "成本"}},
	}}, adm)
	e.Must(200, "POST", "/api/v1/apps/imp/entities/lead/publish", nil, adm)
	e.Must(201, "POST", "/api/v1/admin/roles", map[string]any{"app": "imp", "name": "clerk",
		"permissions": []any{map[string]any{"resource": "entity:lead", "actions": []string{"read", "create"}, "scope": "all"}},
		"fields":      map[string]any{"lead": map[string]any{"hidden": []string{"cost"}}}}, adm)
	uid, tok := e.CreateUser("clerk@example.com", "Clerk", nil)
	e.Must(200, "PUT", "/api/v1/admin/users/"+uid.String()+"/roles", map[string]any{"roles": []any{map[string]any{"app": "imp", "role": "clerk"}}}, adm)
	base := "/api/v1/apps/imp/entities/lead/import"
	cases := []struct {
		name, body, token string
		want              int
		contains          string
	}{
		{"hidden key column", "name,cost\na,1\n", tok, 422, `"message":"column \"cost\" is not a field of lead (未知列)"`},
		{"hidden label column", "name,成本\na,1\n", tok, 422, `"message":"column \"成本\" is not a field of lead (未知列)"`},
		{"unknown column", "name,nosuch\na,1\n", tok, 422, `"message":"column \"nosuch\" is not a field of lead (未知列)"`},
		{"admin sees the column", "name,cost\na,1\n", adm, 201, `"created":1`},
		{"two columns for one field", "name,NAME\na,b\n", adm, 422, `"code":"duplicate_column"`},
		{"key and label of one field", "cost,Cost\n1,2\n", adm, 422, `"header[1]"`},
		{"percent keeps the number", "name,pct\npct-row,50%\n", adm, 201, `"created":1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do("POST", base, []byte(tc.body), tc.token, "Content-Type: text/csv")
			if r.Status != tc.want || !strings.Contains(string(r.Body), tc.contains) {
				t.Fatalf("status %d (want %d), body %s (want %s)", r.Status, tc.want, r.Body, tc.contains)
			}
		})
	}
	list := string(e.Must(200, "GET", `/api/v1/apps/imp/entities/lead/records?filter={"name":"pct-row"}`, nil, adm).Body)
	if !strings.Contains(list, `"pct":50`) {
		t.Fatalf("percent import: %s", list)
	}

	// Excel on a Chinese Windows saves CSV in GBK; bytes that are neither UTF-8 nor GBK are refused.
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("name,成本\n张三,12\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.Do("POST", base, gbk, adm, "Content-Type: text/csv"); r.Status != 201 {
		t.Fatalf("GBK csv: %d %s", r.Status, r.Body)
	}
	list = string(e.Must(200, "GET", `/api/v1/apps/imp/entities/lead/records?filter={"name":"张三"}`, nil, adm).Body)
	if !strings.Contains(list, `"cost":12`) {
		t.Fatalf("GBK import: %s", list)
	}
	if r := e.Do("POST", base, []byte("name\n\xff\xff\xff\n"), adm, "Content-Type: text/csv"); r.Status != 422 || !strings.Contains(string(r.Body), "invalid_encoding") {
		t.Fatalf("undecodable csv: %d %s", r.Status, r.Body)
	}
}
