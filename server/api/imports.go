package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/server/problem"
)

// Import limits.
const (
	maxImportRows  = 50000
	maxImportBytes = 20 << 20
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
		"Import records from CSV (multipart field \"file\" or text/csv body; header row of field keys or labels) or a JSON array. "+
			"Every row goes through validation, dedupe and stage gates. Default mode all: one transaction, nothing is written when a row fails (422 with errors at rows[i].field); ?mode=partial writes the good rows and reports the rest.",
		s.importRecords)
	return nil
}

func (s *Server) importRecords(c *fiber.Ctx) error {
	rc, err := s.resolveRecordCtx(c, "create")
	if err != nil {
		return err
	}
	mode := c.Query("mode", "all")
	if mode != "all" && mode != "partial" {
		return problem.Validation(specErrors("mode", "invalid_value", "mode must be all or partial"))
	}
	ent, _, err := s.Defs.Entity(c.UserContext(), rc.app.ID, rc.slug)
	if err != nil {
		return problem.NotFound("entity " + rc.slug + " not found")
	}
	rows, err := readImportRows(c, ent, rc.grant.Hidden)
	if err != nil {
		return err
	}
	res := &importResult{Rows: len(rows)}
	ctx := c.UserContext()
	tx, err := s.DB.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	defer tx.Rollback(context.Background())
	for i, row := range rows {
		w := rc.write("import")
		w.Tx = tx
		rec, err := s.Records.Create(ctx, rc.app, rc.slug, row, w)
		if err != nil {
			res.Failed++
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
			if len(res.Errors) > 1000 {
				res.Errors = append(res.Errors[:1000], spec.FieldError{Field: "rows", Code: "too_many_errors", Message: "more errors were left out"})
				if mode == "all" {
					break
				}
			}
			continue
		}
		if rec.Receipt != nil {
			res.Pending++
			continue
		}
		if rec.Merged {
			res.Merged++
		} else {
			res.Created++
		}
		res.IDs = append(res.IDs, rec.ID.String())
	}
	if mode == "all" && res.Failed > 0 {
		p := problem.Validation(res.Errors)
		p.Detail = fmt.Sprintf("%d of %d rows are invalid; nothing was imported (%d 行有误，未导入任何数据)", res.Failed, res.Rows, res.Failed)
		return p.With("rows", res.Rows).With("failed", res.Failed)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	status := 201
	if res.Failed > 0 {
		status = 207
	}
	return c.Status(status).JSON(res)
}

// readImportRows reads the rows of a CSV (multipart "file" or text/csv body) or a JSON array.
// hidden fields (the caller's field rules) are unknown columns.
func readImportRows(c *fiber.Ctx, ent *spec.Entity, hidden map[string]bool) ([]map[string]any, error) {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	var raw []byte
	switch {
	case strings.HasPrefix(ct, "multipart/form-data"):
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, problem.Validation(specErrors("file", "required", "send the CSV in the multipart field \"file\""))
		}
		if fh.Size > maxImportBytes {
			return nil, problem.New(413, fmt.Sprintf("the file is larger than %d MiB", maxImportBytes>>20))
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		defer f.Close()
		raw, err = io.ReadAll(io.LimitReader(f, maxImportBytes+1))
		if err != nil {
			return nil, fmt.Errorf("reading upload: %w", err)
		}
		ct = "text/csv"
	default:
		raw = c.Body()
	}
	if len(raw) > maxImportBytes {
		return nil, problem.New(413, fmt.Sprintf("the import is larger than %d MiB", maxImportBytes>>20))
	}
	switch {
	case strings.HasPrefix(ct, "text/csv"):
		return parseCSV(raw, ent, hidden)
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON):
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var rows []map[string]any
		if err := dec.Decode(&rows); err != nil {
			return nil, problem.Validation(specErrors("$", "invalid_json", "send a JSON array of objects of field values"))
		}
		if len(rows) > maxImportRows {
			return nil, problem.New(413, fmt.Sprintf("at most %d rows per import", maxImportRows))
		}
		return rows, nil
	default:
		return nil, problem.New(415, "send text/csv, multipart/form-data with a CSV \"file\", or application/json")
	}
}

// parseCSV maps a header row of field keys or labels (en or zh-CN) to fields and converts cells
// by field type; empty cells are left out. A hidden field is an unknown column, exactly like a
// name that is no field at all; two columns for one field are an error.
func parseCSV(raw []byte, ent *spec.Entity, hidden map[string]bool) ([]map[string]any, error) {
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
	header, err := r.Read()
	if err != nil {
		return nil, problem.Validation(specErrors("file", "invalid_csv", "the CSV needs a header row of field names"))
	}
	byName := map[string]*spec.Field{}
	for i := range ent.Fields {
		f := &ent.Fields[i]
		if hidden[f.Key] {
			continue
		}
		byName[strings.ToLower(f.Key)] = f
		for _, l := range f.Label {
			byName[strings.ToLower(strings.TrimSpace(l))] = f
		}
	}
	cols := make([]*spec.Field, len(header))
	var errs spec.Errors
	taken := map[string]int{}
	for i, h := range header {
		f := byName[strings.ToLower(strings.TrimSpace(h))]
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
	var rows []map[string]any
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, problem.Validation(specErrors(fmt.Sprintf("line %d", line), "invalid_csv", err.Error()))
		}
		if len(rows) >= maxImportRows {
			return nil, problem.New(413, fmt.Sprintf("at most %d rows per import", maxImportRows))
		}
		row := map[string]any{}
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			if i >= len(cols) || cols[i] == nil || cell == "" {
				continue
			}
			row[cols[i].Key] = csvValue(cols[i], cell)
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows, nil
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
