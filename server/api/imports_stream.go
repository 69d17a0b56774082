package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// Streaming imports: a CSV or a JSON array is read from the request as the import goes
// (fasthttp streams request bodies larger than the ordinary body limit, see bodyLimit), so a
// file of a million rows is never held in memory; runtime/records.Store.Import writes it in
// batches. Progress is readable while it runs (GET /api/v1/imports/{id}).

// isImportUpload tells whether the request is a record import, the one route whose body may be
// larger than the ordinary body limit (up to TESSERA_MAX_IMPORT_MB, read as a stream).
func isImportUpload(c *fiber.Ctx) bool {
	p := c.Path()
	return c.Method() == fiber.MethodPost && strings.HasPrefix(p, "/api/v1/apps/") && strings.HasSuffix(p, "/import")
}

// bodyStreamed tells whether the request body was not read ahead (larger than the ordinary
// body limit, or chunked): it is still on the connection.
func (s *Server) bodyStreamed(c *fiber.Ctx) bool {
	n := c.Request().Header.ContentLength()
	return c.Request().IsBodyStream() && (n < 0 || n > s.bodyLimitBytes())
}

func (s *Server) bodyLimitBytes() int { return int(s.Cfg.MaxUpload) + 1<<20 }

// bodyLimit keeps the ordinary body limit for every route but imports: the server streams
// large bodies (fiber's StreamRequestBody), so a body announced larger than the limit answers
// 413 here, and a chunked one is read up to the limit.
func (s *Server) bodyLimit() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !s.bodyStreamed(c) || isImportUpload(c) {
			return c.Next()
		}
		limit := s.bodyLimitBytes()
		req := c.Request()
		c.Context().SetConnectionClose() // an unread rest of the body is no next request
		if req.Header.ContentLength() > limit {
			return problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d MiB (请求体过大)", limit>>20))
		}
		b, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
		if err != nil {
			return problem.New(fiber.StatusBadRequest, "the request body could not be read (无法读取请求体)")
		}
		if len(b) > limit {
			return problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d MiB (请求体过大)", limit>>20))
		}
		req.SetBodyRaw(b)
		return c.Next()
	}
}

// errImportTooLarge is the error of an import body past TESSERA_MAX_IMPORT_MB.
var errImportTooLarge = errors.New("import too large")

// countingReader counts the bytes read (progress) and stops past max.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	prog *importProgress
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n > r.max {
		return 0, errImportTooLarge
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	r.prog.bytes(r.n)
	if r.n > r.max {
		return n, errImportTooLarge
	}
	return n, err
}

// importBody is the request body of an import as a reader: the read-ahead body, or the stream
// still on the connection.
//
// interrupt (nil for a body read whole) makes the pending read of a streamed body, and every
// later one, fail at once: an import that ends early answers without waiting for the client.
func (s *Server) importBody(c *fiber.Ctx, prog *importProgress) (body *countingReader, interrupt func()) {
	limit := s.Cfg.MaxImport
	if limit <= 0 {
		limit = 2048 << 20
	}
	var r io.Reader
	if s.bodyStreamed(c) {
		sr := &streamReader{r: c.Request().BodyStream(), conn: c.Context().Conn(), timeout: readTimeout(s.Cfg),
			until: c.Context().Time().Add(s.maxImportDuration())}
		r, interrupt = sr, sr.interrupt
	} else {
		r = bytes.NewReader(c.Body())
	}
	if n := c.Request().Header.ContentLength(); n > 0 {
		prog.total(int64(n))
	}
	return &countingReader{r: r, max: limit, prog: prog}, interrupt
}

// errImportInterrupted is a read of an import's body after the import ended.
var errImportInterrupted = errors.New("the import ended before its body did")

// maxImportDuration bounds the time a streamed import's body may take to arrive (from the
// request's start; config.Config.MaxImportDuration, 30 minutes when unset): the import's
// transaction, and the locks it holds, last no longer.
func (s *Server) maxImportDuration() time.Duration {
	if s.Cfg.MaxImportDuration > 0 {
		return s.Cfg.MaxImportDuration
	}
	return 30 * time.Minute
}

// errImportTooLong is a read of an import's body past its time limit (maxImportDuration).
var errImportTooLong = errors.New("the import's body took too long")

// streamReader reads a streamed request body with the read timeout as the wait for each next
// chunk. fasthttp's ReadTimeout is one deadline for the request's headers and its whole body,
// which a large import (a million rows take over a minute) would outlast and fail midway.
type streamReader struct {
	r       io.Reader
	conn    net.Conn
	timeout time.Duration
	until   time.Time // the import's time limit (maxImportDuration after the request's start)
	stopped atomic.Bool
	// err is the stream's end or failure, answered again to every later read: a chunked
	// stream read again after its last chunk waits for bytes of a next request.
	err error
}

func (sr *streamReader) Read(p []byte) (int, error) {
	if sr.err != nil {
		return 0, sr.err
	}
	if sr.stopped.Load() {
		return 0, errImportInterrupted
	}
	deadline := time.Now().Add(sr.timeout)
	if deadline.After(sr.until) {
		deadline = sr.until
	}
	_ = sr.conn.SetReadDeadline(deadline)
	if sr.stopped.Load() { // interrupt ran since the check: its past deadline was overwritten
		return 0, errImportInterrupted
	}
	n, err := sr.r.Read(p)
	if err != nil && !time.Now().Before(sr.until) {
		err = errImportTooLong
	}
	sr.err = err
	return n, err
}

// interrupt makes the pending read fail (a past deadline) and every later one.
func (sr *streamReader) interrupt() {
	sr.stopped.Store(true)
	_ = sr.conn.SetReadDeadline(time.Now())
}

// tooLarge maps a read error past the import's limits to its answer: 413 past its size, 408
// past its time (maxImportDuration).
func tooLarge(err error, max int64) error {
	if errors.Is(err, errImportTooLong) {
		return problem.New(fiber.StatusRequestTimeout, "the import's file took too long to arrive (the limit is 30 minutes by default); nothing was imported (导入文件上传超时，未导入任何数据)")
	}
	if errors.Is(err, errImportTooLarge) {
		if max <= 0 {
			max = 2048 << 20
		}
		return problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the import is larger than %d MiB (导入文件超过 %d MiB)", max>>20, max>>20))
	}
	return nil
}

// importSource answers the rows of an import body: a CSV (text/csv, or the multipart field
// "file") or a JSON array of objects, streamed; an XLSX workbook or the wizard's mapped JSON,
// read whole (at most maxImportBytes). n is the number of rows when they were read whole, -1
// for a stream.
func importSource(c *fiber.Ctx, body *countingReader, ent *spec.Entity, hidden map[string]bool) (src records.RowSource, n int, err error) {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	var r io.Reader = body
	name := ""
	if strings.HasPrefix(ct, "multipart/form-data") {
		_, params, err := mime.ParseMediaType(ct)
		if err != nil || params["boundary"] == "" {
			return nil, 0, problem.Validation(specErrors("file", "required", "send the CSV in the multipart field \"file\""))
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				if e := tooLarge(err, body.max); e != nil {
					return nil, 0, e
				}
				return nil, 0, problem.Validation(specErrors("file", "required", "send the CSV in the multipart field \"file\""))
			}
			if part.FormName() == "file" {
				r, name = part, part.FileName()
				break
			}
		}
		ct = "text/csv"
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || strings.HasSuffix(strings.ToLower(name), ".xlsx") || strings.HasSuffix(strings.ToLower(name), ".xls"):
		raw, err := io.ReadAll(io.LimitReader(br, maxImportBytes+1))
		if e := tooLarge(err, body.max); e != nil {
			return nil, 0, e
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading upload: %w", err)
		}
		if len(raw) > maxImportBytes {
			return nil, 0, problem.New(413, fmt.Sprintf("an XLSX workbook is at most %d MiB; save it as CSV to import more (XLSX 最大 %d MiB，更大的文件请另存为 CSV)", maxImportBytes>>20, maxImportBytes>>20))
		}
		table, err := importTable(raw, name)
		if err != nil {
			return nil, 0, err
		}
		rows, err := tableRows(table, ent, hidden)
		if err != nil {
			return nil, 0, err
		}
		return sliceSource(rows), len(rows), nil
	case strings.HasPrefix(ct, "text/csv"):
		src, err := csvSource(br, ent, hidden, body.max)
		return src, -1, err
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON) || IsJSONBody(c):
		first, err := firstByte(br)
		if e := tooLarge(err, body.max); e != nil {
			return nil, 0, e
		}
		if first == '[' {
			return jsonArraySource(br, body.max), -1, nil
		}
		raw, err := io.ReadAll(io.LimitReader(br, maxImportBytes+1))
		if e := tooLarge(err, body.max); e != nil {
			return nil, 0, e
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading import: %w", err)
		}
		if len(raw) > maxImportBytes {
			return nil, 0, problem.New(413, fmt.Sprintf("mapped JSON is at most %d MiB; send a CSV to import more (映射后的 JSON 最大 %d MiB)", maxImportBytes>>20, maxImportBytes>>20))
		}
		rows, err := mappedRows(raw, ent, hidden)
		if err != nil {
			return nil, 0, err
		}
		return sliceSource(rows), len(rows), nil
	default:
		return nil, 0, problem.New(415, "send text/csv, multipart/form-data with a CSV \"file\", or application/json (请发送 CSV、含 file 字段的表单或 JSON)")
	}
}

// firstByte peeks the first byte that is not white space.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			return b, br.UnreadByte()
		}
	}
}

func sliceSource(rows []map[string]any) records.RowSource {
	i := 0
	return func() (map[string]any, error) {
		if i >= len(rows) {
			return nil, io.EOF
		}
		i++
		return rows[i-1], nil
	}
}

// csvSource reads a CSV as a stream: UTF-8 (an Excel BOM is dropped) or, when its first 64 KiB
// are not UTF-8, GBK (read as GB18030); the header row maps columns to fields like tableRows
// does; rows without any value are skipped.
func csvSource(br *bufio.Reader, ent *spec.Entity, hidden map[string]bool, max int64) (records.RowSource, error) {
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		if e := tooLarge(err, max); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("reading import: %w", err)
	}
	var r io.Reader = br
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3) //nolint:errcheck // peeked
		head = head[3:]
	}
	gbk := !utf8Prefix(head)
	if gbk {
		r = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	badEncoding := func(rec []string) error {
		for _, cell := range rec {
			if gbk && strings.ContainsRune(cell, utf8.RuneError) {
				return problem.Validation(specErrors("file", "invalid_encoding", "the CSV must be UTF-8 or GBK (请将 CSV 保存为 UTF-8 或 GBK 编码)"))
			}
		}
		return nil
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, problem.Validation(specErrors("file", "invalid_csv", "the CSV needs a header row of field names (CSV 需要字段名标题行)"))
	}
	if err != nil {
		if e := tooLarge(err, max); e != nil {
			return nil, e
		}
		return nil, problem.Validation(specErrors("line 1", "invalid_csv", err.Error()))
	}
	if err := badEncoding(header); err != nil {
		return nil, err
	}
	cols, err := headerColumns(append([]string(nil), header...), ent, hidden)
	if err != nil {
		return nil, err
	}
	line := 1
	return func() (map[string]any, error) {
		for {
			rec, err := cr.Read()
			line++
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			if err != nil {
				if e := tooLarge(err, max); e != nil {
					return nil, e
				}
				return nil, problem.Validation(specErrors(fmt.Sprintf("line %d", line), "invalid_csv", err.Error()))
			}
			if err := badEncoding(rec); err != nil {
				return nil, err
			}
			if row := cellRow(rec, cols); len(row) > 0 {
				return row, nil
			}
		}
	}, nil
}

// utf8Prefix tells whether b is UTF-8 but for a rune cut at its end.
func utf8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// jsonArraySource reads a JSON array of objects of field values one object at a time.
func jsonArraySource(br *bufio.Reader, max int64) records.RowSource {
	dec := json.NewDecoder(br)
	dec.UseNumber()
	bad := func(err error) error {
		if e := tooLarge(err, max); e != nil {
			return e
		}
		return problem.Validation(specErrors("$", "invalid_json", "send a JSON array of objects of field values (请发送字段值对象的 JSON 数组)"))
	}
	started := false
	return func() (map[string]any, error) {
		if !started {
			started = true
			if _, err := dec.Token(); err != nil {
				return nil, bad(err)
			}
		}
		if !dec.More() {
			if _, err := dec.Token(); err != nil {
				return nil, bad(err)
			}
			return nil, io.EOF
		}
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return nil, bad(err)
		}
		return row, nil
	}
}

// importProgress is what a running import has done, for GET /api/v1/imports/{id}.
type importProgress struct {
	mu      sync.Mutex
	owner   uuid.UUID
	id      string
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Merged  int `json:"merged"`
	Pending int `json:"pending"`
	Failed  int `json:"failed"`
	// RowsTotal is the number of rows when the server knows it before writing (the wizard's
	// mapped JSON, an XLSX sheet); a streamed CSV or JSON array has none (bytes tell instead).
	RowsTotal  int        `json:"rows_total,omitempty"`
	BytesRead  int64      `json:"bytes_read"`
	BytesTotal int64      `json:"bytes_total,omitempty"`
	Done       bool       `json:"done"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	reg        *importRegistry
}

func (p *importProgress) update(rows int, r *records.ImportResult) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.Rows, p.Created, p.Merged, p.Pending, p.Failed = rows, r.Created, r.Merged, r.Pending, r.Failed
	p.mu.Unlock()
}

func (p *importProgress) bytes(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.BytesRead = n
	p.mu.Unlock()
}

func (p *importProgress) total(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.BytesTotal = n
	p.mu.Unlock()
}

func (p *importProgress) rowsTotal(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.RowsTotal = n
	p.mu.Unlock()
}

// progressBatch is the batch size of a followed import of n rows read whole: about ten
// progress steps (at least 500 rows a batch), records.ImportBatch from 50,000 rows on. A
// streamed import (n < 0) and one nobody follows keep records.ImportBatch.
func progressBatch(n int) int {
	b := n / 10
	switch {
	case n < 0 || b >= records.ImportBatch:
		return records.ImportBatch
	case b < 500:
		return 500
	}
	return b
}

func (p *importProgress) finish() {
	if p == nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	p.Done, p.FinishedAt = true, &now
	p.mu.Unlock()
}

// importRegistry holds the progress of this replica's imports (kept 10 minutes after they end).
type importRegistry struct {
	mu   sync.Mutex
	jobs map[string]*importProgress
}

var progressIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// start registers an import under the caller's progress id ("" : not followed).
func (r *importRegistry) start(owner uuid.UUID, id string) (*importProgress, error) {
	if id == "" {
		return nil, nil
	}
	if !progressIDRe.MatchString(id) {
		return nil, problem.Validation(specErrors("progress", "invalid_value", "progress must be 8 to 64 letters, digits, - or _ (progress 须为 8–64 位字母、数字、- 或 _)"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[string]*importProgress{}
	}
	for k, p := range r.jobs {
		p.mu.Lock()
		old := p.FinishedAt != nil && time.Since(*p.FinishedAt) > 10*time.Minute
		p.mu.Unlock()
		if old {
			delete(r.jobs, k)
		}
	}
	key := owner.String() + "/" + id
	if p, ok := r.jobs[key]; ok {
		p.mu.Lock()
		running := !p.Done
		p.mu.Unlock()
		if running {
			return nil, problem.Conflict("an import with this progress id is running (该进度编号的导入正在进行)")
		}
	}
	p := &importProgress{owner: owner, id: id, StartedAt: time.Now(), reg: r}
	r.jobs[key] = p
	return p, nil
}

func (r *importRegistry) get(owner uuid.UUID, id string) *importProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[owner.String()+"/"+id]
}

// importProgressOf answers the progress of the caller's import with that id.
func (s *Server) importProgressOf(c *fiber.Ctx) error {
	p, err := auth.Require(c)
	if err != nil {
		return err
	}
	job := s.imports.get(p.Subject().UserID, c.Params("id"))
	if job == nil {
		return problem.NotFound("no import with this progress id (没有该进度编号的导入)")
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	return c.JSON(job)
}
