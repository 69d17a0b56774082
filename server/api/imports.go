package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/records"
	"github.com/tessera/tessera/server/problem"
)

// Import limits.
const (
	// maxImportRows bounds the rows of what is read whole: an XLSX sheet, the wizard's mapped
	// JSON and the parse preview (a CSV or a JSON array is streamed, bounded by bytes only).
	maxImportRows = 50000
	// maxImportBytes bounds what is read whole (XLSX, mapped JSON, the parse preview).
	maxImportBytes  = 20 << 20
	maxImportErrors = 1000
)

// importResult is the answer of an import.
type importResult struct {
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Merged  int `json:"merged"`
	// Pending counts rows that matched a record the importer may not read or update: they
	// wait on that record for its owner's review (nothing was changed).
	Pending int               `json:"pending"`
	Failed  int               `json:"failed"`
	Errors  []spec.FieldError `json:"errors,omitempty"`
	IDs     []string          `json:"ids,omitempty"`
}

func (s *Server) mountImports() error {
	s.route("POST", "/api/v1/apps/:app/entities/:entity/import", "records",
		"Import records from CSV (multipart field \"file\" or text/csv body; header row of field keys or labels) or a JSON array, read as a stream (up to TESSERA_MAX_IMPORT_MB) and written in batches with COPY. "+
			"Every row goes through validation, dedupe and stage gates; ?progress=<id> makes GET /api/v1/imports/{id} report progress while it runs. Default mode all: one transaction, nothing is written when a row fails (422 with errors at rows[i].field); ?mode=partial writes the good rows and reports the rest.",
		s.importRecords)
	s.route("POST", "/api/v1/apps/:app/entities/:entity/import/parse", "records",
		"Read an import file (multipart field \"file\": CSV in UTF-8 or GBK, or XLSX, first sheet) without writing: {headers, rows (cells as text), suggestions (the field key each column matches by key or en/zh label, or \"\")}, for the import wizard's column mapping",
		s.parseImport)
	s.route("GET", "/api/v1/imports/:id", "records",
		"Progress of the caller's running (or recently finished) import started with ?progress=<id>: {rows, created, merged, pending, failed, bytes_read, bytes_total, done} (per replica; kept 10 minutes after the import ends)",
		s.importProgressOf)
	return nil
}

func (s *Server) importRecords(c *fiber.Ctx) error {
	if s.bodyStreamed(c) {
		// what of the body is not read (an early answer) must not be read as the next request
		c.Context().SetConnectionClose()
	}
	rc, err := s.resolveRecordCtx(c, "create")
	if err != nil {
		return err
	}
	mode := c.Query("mode", "all")
	if mode != "all" && mode != "partial" {
		return problem.Validation(specErrors("mode", "invalid_value", "mode must be all or partial (mode 须为 all 或 partial)"))
	}
	dryRun := c.QueryBool("dry_run", false)
	ent, _, err := s.Defs.Entity(c.UserContext(), rc.app.ID, rc.slug)
	if err != nil {
		return problem.NotFound("entity " + rc.slug + " not found")
	}
	prog, err := s.imports.start(rc.p.Subject().UserID, c.Query("progress"))
	if err != nil {
		return err
	}
	defer prog.finish()
	body, interrupt := s.importBody(c, prog)
	src, n, err := importSource(c, body, ent, rc.grant.Hidden)
	if err != nil {
		return err
	}
	batch := 0
	if prog != nil && n >= 0 {
		prog.rowsTotal(n)
		batch = progressBatch(n) // a followed import moves in steps one can see
	}
	res := &importResult{}
	r, err := s.Records.Import(c.UserContext(), rc.app, rc.slug, src, records.ImportOptions{
		// an import that ends early (too many bad rows, an error) answers at once: the read
		// of the body still pending fails (the connection closes after the answer anyway)
		Interrupt: interrupt,
		Write:     rc.write("import"),
		Partial:   mode == "partial",
		DryRun:    dryRun,
		BatchSize: batch,
		MaxErrors: maxImportErrors + 1,
		RowError: func(i int, err error) error {
			var fe spec.Errors
			switch {
			case errors.As(err, &fe):
				res.Errors = append(res.Errors, spec.PrefixErrors(fe, fmt.Sprintf("rows[%d].", i)).(spec.Errors)...)
			default:
				p := problem.From(recordError(err))
				if p.Status >= 500 {
					return err
				}
				res.Errors = append(res.Errors, spec.FieldError{Field: fmt.Sprintf("rows[%d]", i), Code: strings.ToLower(strings.ReplaceAll(p.Title, " ", "_")), Message: p.Detail})
			}
			if len(res.Errors) > maxImportErrors {
				res.Errors = append(res.Errors[:maxImportErrors], spec.FieldError{Field: "rows", Code: "too_many_errors", Message: "more errors were left out (更多错误未列出)"})
			}
			return nil
		},
		Progress: prog.update,
	})
	if err != nil {
		return err
	}
	res.Rows, res.Created, res.Merged, res.Pending, res.Failed = r.Rows, r.Created, r.Merged, r.Pending, r.Failed
	if dryRun {
		// Every row went through validation, dedupe and gates; nothing is kept.
		return c.Status(fiber.StatusOK).JSON(res)
	}
	if mode == "all" && res.Failed > 0 {
		p := problem.Validation(res.Errors)
		p.Detail = fmt.Sprintf("%d of %d rows are invalid; nothing was imported (%d 行有误，未导入任何数据)", res.Failed, res.Rows, res.Failed)
		return p.With("rows", res.Rows).With("failed", res.Failed)
	}
	for _, id := range r.IDs {
		res.IDs = append(res.IDs, id.String())
	}
	status := 201
	if res.Failed > 0 {
		status = 207
	}
	return c.Status(status).JSON(res)
}

// parseCSV maps a header row of field keys or labels (en or zh-CN) to fields and converts cells
// by field type; empty cells are left out. A hidden field is an unknown column, exactly like a
// name that is no field at all; two columns for one field are an error.
func parseCSV(raw []byte, ent *spec.Entity, hidden map[string]bool) ([]map[string]any, error) {
	table, err := importTable(raw, "")
	if err != nil {
		return nil, err
	}
	return tableRows(table, ent, hidden)
}

// tableRows maps the header row of table (field keys or labels) to fields and converts the
// other rows.
func tableRows(table [][]string, ent *spec.Entity, hidden map[string]bool) ([]map[string]any, error) {
	if len(table) == 0 {
		return nil, problem.Validation(specErrors("file", "invalid_csv", "the CSV needs a header row of field names (CSV 需要字段名标题行)"))
	}
	cols, err := headerColumns(table[0], ent, hidden)
	if err != nil {
		return nil, err
	}
	return cellRows(table[1:], cols), nil
}

// headerColumns maps a header row of field keys or labels to fields (a hidden field is an
// unknown column; two columns for one field are an error).
func headerColumns(header []string, ent *spec.Entity, hidden map[string]bool) ([]*spec.Field, error) {
	byName := importNames(ent, hidden)
	cols := make([]*spec.Field, len(header))
	var errs spec.Errors
	taken := map[string]int{}
	for i, h := range header {
		f := byName[importKey(h)]
		switch {
		case f == nil:
			errs.Add(fmt.Sprintf("header[%d]", i), "unknown_field", "column %q is not a field of %s (未知列)", h, ent.Slug)
		default:
			if j, dup := taken[f.Key]; dup {
				errs.Add(fmt.Sprintf("header[%d]", i), "duplicate_column", "column %q is the same field as column %d (%s) (重复的列)", h, j+1, f.Key)
			}
			taken[f.Key] = i
		}
		cols[i] = f
	}
	if len(errs) > 0 {
		return nil, problem.Validation(errs)
	}
	return cols, nil
}

// cellRows converts rows of text cells to field values by column (nil columns are skipped);
// empty cells are left out, and so are rows without any value.
func cellRows(table [][]string, cols []*spec.Field) []map[string]any {
	rows := make([]map[string]any, 0, len(table))
	for _, rec := range table {
		if row := cellRow(rec, cols); len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// cellRow converts one row of text cells (see cellRows).
func cellRow(rec []string, cols []*spec.Field) map[string]any {
	row := map[string]any{}
	for i, cell := range rec {
		cell = strings.TrimSpace(cell)
		if i >= len(cols) || cols[i] == nil || cell == "" {
			continue
		}
		row[cols[i].Key] = csvValue(cols[i], cell)
	}
	return row
}

// importKey is how a column header is compared with field keys and labels: trimmed, lower
// case, without spaces, underscores, hyphens and a trailing "*" or colon.
func importKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimRight(s, "*:：")
	return strings.NewReplacer(" ", "", "_", "", "-", "", "\u3000", "").Replace(s)
}

// importNames maps the keys and en/zh-CN labels of the fields the caller may see (as importKey
// writes them) to the fields.
func importNames(ent *spec.Entity, hidden map[string]bool) map[string]*spec.Field {
	byName := map[string]*spec.Field{}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if hidden[f.Key] {
			continue
		}
		for _, l := range f.Label {
			if k := importKey(l); k != "" {
				byName[k] = f
			}
		}
	}
	for i := range ent.Fields { // keys win over labels
		f := &ent.Fields[i]
		if !hidden[f.Key] {
			byName[importKey(f.Key)] = f
		}
	}
	return byName
}

// importTable reads an import file as rows of text cells: an XLSX workbook (its first sheet;
// by content, whatever the name says) or a CSV in UTF-8 (an Excel BOM is dropped) or GBK.
func importTable(raw []byte, name string) ([][]string, error) {
	if bytes.HasPrefix(raw, []byte("PK\x03\x04")) {
		return xlsxTable(raw)
	}
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") || strings.HasSuffix(strings.ToLower(name), ".xls") {
		return nil, problem.Validation(specErrors("file", "invalid_xlsx", "the file is not an XLSX workbook (不是有效的 XLSX 文件；旧版 .xls 请另存为 .xlsx)"))
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	if !utf8.Valid(raw) {
		// Excel on a Chinese Windows saves "CSV" in GBK: read it as GB18030 (a superset) when
		// every byte decodes.
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
		if err != nil || !utf8.Valid(dec) || bytes.ContainsRune(dec, utf8.RuneError) {
			return nil, problem.Validation(specErrors("file", "invalid_encoding", "the CSV must be UTF-8 or GBK (请将 CSV 保存为 UTF-8 或 GBK 编码)"))
		}
		raw = dec
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var table [][]string
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, problem.Validation(specErrors(fmt.Sprintf("line %d", line), "invalid_csv", err.Error()))
		}
		if len(table) > maxImportRows {
			return nil, problem.New(413, fmt.Sprintf("at most %d rows per import (每次最多导入 %d 行)", maxImportRows, maxImportRows))
		}
		table = append(table, rec)
	}
	return table, nil
}

// xlsxTable reads the first sheet of an XLSX workbook as text cells (as Excel shows them).
func xlsxTable(raw []byte) ([][]string, error) {
	bad := problem.Validation(specErrors("file", "invalid_xlsx", "the file is not a readable XLSX workbook (无法读取该 XLSX 文件)"))
	f, err := excelize.OpenReader(bytes.NewReader(raw), excelize.Options{UnzipSizeLimit: 200 << 20, UnzipXMLSizeLimit: 100 << 20})
	if err != nil {
		return nil, bad
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, bad
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, bad
	}
	defer rows.Close()
	var table [][]string
	for rows.Next() {
		if len(table) > maxImportRows {
			return nil, problem.New(413, fmt.Sprintf("at most %d rows per import (每次最多导入 %d 行)", maxImportRows, maxImportRows))
		}
		cols, err := rows.Columns()
		if err != nil {
			return nil, bad
		}
		table = append(table, cols)
	}
	if rows.Error() != nil {
		return nil, bad
	}
	return table, nil
}

// mappedRows reads the import wizard's JSON {"columns": [field key or "" per column], "rows":
// [[cell text, ...], ...]}: cells are converted like CSV cells; a column the caller may not
// see, an unknown key or a field named twice is a 422.
func mappedRows(raw []byte, ent *spec.Entity, hidden map[string]bool) ([]map[string]any, error) {
	var in struct {
		Columns []string   `json:"columns"`
		Rows    [][]string `json:"rows"`
	}
	if err := decodeStrict(raw, &in); err != nil {
		return nil, err
	}
	if len(in.Rows) > maxImportRows {
		return nil, problem.New(413, fmt.Sprintf("at most %d rows per import (每次最多导入 %d 行)", maxImportRows, maxImportRows))
	}
	cols := make([]*spec.Field, len(in.Columns))
	var errs spec.Errors
	taken := map[string]bool{}
	for i, k := range in.Columns {
		if k == "" {
			continue
		}
		f := ent.Field(k)
		switch {
		case f == nil || hidden[k]:
			errs.Add(fmt.Sprintf("columns[%d]", i), "unknown_field", "%[1]q is not a field of %[2]s (%[1]q 不是 %[2]s 的字段)", k, ent.Slug)
		case taken[k]:
			errs.Add(fmt.Sprintf("columns[%d]", i), "duplicate_column", "two columns are mapped to %[1]q (两列映射到了同一字段 %[1]q)", k)
		}
		taken[k] = true
		cols[i] = f
	}
	if len(in.Columns) == 0 || len(taken) == 0 {
		errs.Add("columns", "required", "map at least one column to a field (请至少映射一列)")
	}
	if len(errs) > 0 {
		return nil, problem.Validation(errs)
	}
	return cellRows(in.Rows, cols), nil
}

// parseImport answers the cells of an uploaded CSV/XLSX and the field suggested for each column.
func (s *Server) parseImport(c *fiber.Ctx) error {
	rc, err := s.resolveRecordCtx(c, "create")
	if err != nil {
		return err
	}
	ent, _, err := s.Defs.Entity(c.UserContext(), rc.app.ID, rc.slug)
	if err != nil {
		return problem.NotFound("entity " + rc.slug + " not found (实体不存在)")
	}
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), "multipart/form-data") {
		return problem.New(fiber.StatusUnsupportedMediaType, "send the file as multipart/form-data in the field \"file\" (请以 multipart/form-data 上传文件)")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return problem.Validation(specErrors("file", "required", "choose a CSV or XLSX file (请选择 CSV 或 XLSX 文件)"))
	}
	if fh.Size > maxImportBytes {
		return problem.New(413, fmt.Sprintf("the file is larger than %d MiB (文件超过 %d MiB)", maxImportBytes>>20, maxImportBytes>>20))
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("reading upload: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil {
		return fmt.Errorf("reading upload: %w", err)
	}
	table, err := importTable(raw, fh.Filename)
	if err != nil {
		return err
	}
	if len(table) == 0 || len(table[0]) == 0 {
		return problem.Validation(specErrors("file", "empty", "the file has no header row (文件没有标题行)"))
	}
	byName := importNames(ent, rc.grant.Hidden)
	sugg := make([]string, len(table[0]))
	taken := map[string]bool{}
	for i, h := range table[0] {
		if f := byName[importKey(h)]; f != nil && !taken[f.Key] {
			sugg[i] = f.Key
			taken[f.Key] = true
		}
	}
	rows := table[1:]
	// drop wholly empty rows (spreadsheets keep formatted blank lines)
	kept := rows[:0]
	for _, r := range rows {
		for _, cell := range r {
			if strings.TrimSpace(cell) != "" {
				kept = append(kept, r)
				break
			}
		}
	}
	return c.JSON(fiber.Map{"headers": table[0], "rows": kept, "suggestions": sugg, "total": len(kept)})
}

func csvValue(f *spec.Field, cell string) any {
	switch f.Type {
	case spec.TypeNumber, spec.TypeMoney, spec.TypePercent:
		// A percent field holds the number shown before the sign ("50%" is 50, as in the API
		// and the UI); commas are checked and removed by the record validation.
		if n, err := strconv.ParseFloat(strings.TrimSuffix(cell, "%"), 64); err == nil {
			return n
		}
	case spec.TypeBoolean:
		switch strings.ToLower(cell) {
		case "true", "yes", "y", "1", "是", "对":
			return true
		case "false", "no", "n", "0", "否", "错":
			return false
		}
	case spec.TypeMultiselect:
		parts := strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == ';' || r == '，' || r == '；' })
		out := make([]any, 0, len(parts))
		for _, p := range parts {
			out = append(out, strings.TrimSpace(p))
		}
		return out
	case spec.TypeSelect:
		for _, o := range f.Options {
			for _, l := range o.Label {
				if l == cell {
					return o.Value
				}
			}
		}
	}
	return cell
}
