package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tessera/tessera/server/apitest"
	"github.com/tessera/tessera/server/config"
)

// TestImportStreamsLargeBodies: an import larger than the ordinary body limit is read as a
// stream and written in batches (progress readable while it runs, from GET /api/v1/imports/{id});
// every other route keeps the limit (413); an import past TESSERA_MAX_IMPORT_MB is a 413; the
// record.created flows of imported records start.
func TestImportStreamsLargeBodies(t *testing.T) {
	e := apitest.New(t, apitest.WithConfig(func(c *config.Config) {
		c.MaxUpload = 1 << 20 // ordinary body limit: 2 MiB
		c.MaxImport = 6 << 20
	}))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "item", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "email", "type": "email", "unique": true},
		map[string]any{"key": "n", "type": "number"}}})
	publishEntity(t, e, map[string]any{"slug": "deal", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	publishFlow(t, e, map[string]any{"slug": "on-deal", "trigger": map[string]any{"type": "record.created", "entity": "deal"},
		"nodes": []any{map[string]any{"id": "s", "type": "set", "params": map[string]any{"values": map[string]any{"x": 1}}}}, "edges": []any{}})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.Srv.App().Listener(ln) }()
	url := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Minute}
	// send answers status 0 when the server closed the connection before the client had
	// sent the whole body (a body refused early).
	send := func(method, path, ct string, body io.Reader) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.AdminToken)
		res, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	// triggers: every imported deal starts its record.created flow
	if st, b := send("POST", "/api/v1/apps/crm/entities/deal/import", "text/csv", strings.NewReader("name\na\nb\nc\n")); st != 201 {
		t.Fatalf("deals: %d %s", st, b)
	}
	var runs int
	_ = e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs WHERE flow = 'on-deal'`).Scan(&runs)
	if runs != 3 {
		t.Fatalf("%d runs of on-deal, want 3", runs)
	}

	// a 4 MiB CSV (past the 2 MiB body limit), sent chunked from a pipe: the first batch is
	// imported (and its progress visible) before the rest of the file is even sent
	const rows = 60_000
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var st int
	var body string
	go func() {
		defer close(done)
		st, body = send("POST", "/api/v1/apps/crm/entities/item/import?mode=partial&progress=big-import-1", "text/csv", pr)
	}()
	line := func(i int) string { return fmt.Sprintf("item number %08d,i%d@example.com,%d\n", i, i, i) }
	fmt.Fprint(pw, "name,email,n\n")
	for i := 0; i < 10_000; i++ {
		fmt.Fprint(pw, line(i))
	}
	fmt.Fprint(pw, line(0)) // a repeated unique value: row 10000 fails, keeping its number
	progress := func() map[string]any {
		r := e.Do("GET", "/api/v1/imports/big-import-1", nil, e.AdminToken)
		m := map[string]any{"created": 0.0, "done": nil}
		if r.Status == 404 {
			return m // not started yet
		}
		_ = json.Unmarshal(r.Body, &m)
		return m
	}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		if p := progress(); p["created"].(float64) >= 5000 && p["done"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress while the file is being sent: %v", progress())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 10_001; i < rows; i++ {
		fmt.Fprint(pw, line(i))
	}
	pw.Close()
	<-done
	if st != 207 || !strings.Contains(body, fmt.Sprintf(`"created":%d`, rows-1)) || !strings.Contains(body, `"rows[10000].email"`) {
		t.Fatalf("streamed import: %d %.500s", st, body)
	}
	if p := progress(); p["done"] != true || p["rows"].(float64) != rows {
		t.Fatalf("final progress: %v", p)
	}
	// someone else's progress id is not found
	_, otherTok := e.CreateUser("other@example.com", "Other", nil)
	e.Must(404, "GET", "/api/v1/imports/big-import-1", nil, otherTok)

	// past TESSERA_MAX_IMPORT_MB: 413, nothing written
	big := strings.Repeat(strings.Repeat("x", 100_000)+",,\n", 70)
	if st, b := send("POST", "/api/v1/apps/crm/entities/item/import", "text/csv", strings.NewReader("name,email,n\n"+big)); st != 413 && st != 0 {
		t.Fatalf("import past the limit: %d %.300s", st, b)
	}
	// every other route keeps the ordinary limit, announced or chunked
	huge := `{"name":"` + strings.Repeat("x", 3<<20) + `"}`
	e.Must(413, "POST", "/api/v1/apps/crm/entities/item/records", huge, e.AdminToken)
	if st, _ := send("POST", "/api/v1/apps/crm/entities/item/records", "application/json", io.MultiReader(strings.NewReader(huge))); st != 413 && st != 0 {
		t.Fatalf("large chunked record body: %d", st)
	}
	if st, b := send("POST", "/api/v1/apps/crm/entities/item/records", "application/json", io.MultiReader(strings.NewReader(`{"name":"small chunked"}`))); st != 201 {
		t.Fatalf("small chunked record body: %d %s", st, b)
	}
	var n int
	_ = e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE entity = 'item'`).Scan(&n)
	if n != rows {
		t.Fatalf("%d items", n)
	}
}

// streamImport posts an import whose body the caller writes to w (chunked), on a real
// connection, and answers the status and body on the channel (status 0: the connection was
// closed before the answer).
func streamImport(t *testing.T, e *apitest.Env, path string) (w *io.PipeWriter, answer <-chan [2]string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.Srv.App().Listener(ln) }()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	ch := make(chan [2]string, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+path, pr)
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+e.AdminToken)
		res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
		if err != nil {
			ch <- [2]string{"0", err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- [2]string{fmt.Sprint(res.StatusCode), string(b)}
	}()
	return pw, ch
}

// TestStreamedImportOutlastsTheReadTimeout: the read timeout bounds the wait for each next
// chunk of a streamed import's body, not the whole body: a body that takes three times the
// timeout to arrive, a chunk at a time, is imported whole.
func TestStreamedImportOutlastsTheReadTimeout(t *testing.T) {
	e := apitest.New(t, apitest.WithConfig(func(c *config.Config) { c.ReadTimeout = 2 * time.Second }))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "item", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	w, answer := streamImport(t, e, "/api/v1/apps/crm/entities/item/import")
	if _, err := io.WriteString(w, "name\n"); err != nil {
		t.Fatal(err)
	}
	const chunks = 20
	for i := range chunks { // 20 chunks 300 ms apart: 6 s, three read timeouts
		if _, err := fmt.Fprintf(w, "item %d\n", i); err != nil {
			t.Fatalf("chunk %d: %v (the server stopped reading)", i, err)
		}
		time.Sleep(300 * time.Millisecond) // the pace of a slow client, not a wait for state
	}
	w.Close()
	a := <-answer
	if a[0] != "201" || !strings.Contains(a[1], fmt.Sprintf(`"created":%d`, chunks)) {
		t.Fatalf("%s %s", a[0], a[1])
	}
}

// TestImportEndingEarlyAnswersAtOnce: an all-or-nothing import that stops at its error limit
// while the client has not sent the rest of its body answers 422 at once, not when the
// client's next bytes or the server's read timeout (60 s) come.
func TestImportEndingEarlyAnswersAtOnce(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "item", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true}, map[string]any{"key": "n", "type": "number"}}})
	w, answer := streamImport(t, e, "/api/v1/apps/crm/entities/item/import")
	// a first batch (5,000 rows) of rows without their required name, then nothing more
	var b strings.Builder
	b.WriteString("name,n\n")
	for i := range 5_000 {
		fmt.Fprintf(&b, ",%d\n", i)
	}
	b.WriteString(strings.Repeat("x", 64<<10)) // the read-ahead of the next batch waits inside a row
	go func() { _, _ = io.WriteString(w, b.String()) }()
	select {
	case a := <-answer:
		if a[0] != "422" || !strings.Contains(a[1], "too_many_errors") {
			t.Fatalf("%s %s", a[0], a[1])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer 30 s after the import reached its error limit: it waits for the rest of the body")
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE entity = 'item'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d records written (%v)", n, err)
	}
}

// TestStreamedImportHasATimeLimit: a streamed import whose body is still arriving when its
// time limit (from the request's start) passes answers 408 and imports nothing, however
// steadily the bytes come: the import's transaction (and its locks) last no longer.
func TestStreamedImportHasATimeLimit(t *testing.T) {
	e := apitest.New(t, apitest.WithConfig(func(c *config.Config) { c.MaxImportDuration = 2 * time.Second }))
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "item", "fields": []any{map[string]any{"key": "name", "type": "text", "required": true}}})
	w, answer := streamImport(t, e, "/api/v1/apps/crm/entities/item/import?mode=partial")
	if _, err := io.WriteString(w, "name\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := 0; ; i++ { // a row every 100 ms, past the limit
			if _, err := fmt.Fprintf(w, "item %d\n", i); err != nil {
				return // the server stopped reading
			}
			time.Sleep(100 * time.Millisecond) // the pace of a slow client, not a wait for state
		}
	}()
	a := <-answer
	if a[0] != "408" || !strings.Contains(a[1], "超时") {
		t.Fatalf("%s %s", a[0], a[1])
	}
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE entity = 'item'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d records written (%v)", n, err)
	}
}
