package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/report"
	"github.com/tessera/tessera/server/auth"
	"github.com/tessera/tessera/server/problem"
)

// mountReports registers the reports routes: report data, previews of unsaved definitions,
// dashboard data and CSV/XLSX exports of reports and record lists.
func (s *Server) mountReports() error {
	if s.Reports == nil {
		s.Reports = report.New(s.DB.Pool, s.Defs)
	}
	s.route("GET", "/api/v1/apps/:app/reports/:report/data", "reports", "Run a published report (query: from, to, filter, locale)", s.reportData)
	s.route("POST", "/api/v1/apps/:app/reports/preview", "reports", "Run an unsaved report definition (body) with the caller's access", s.reportPreview)
	s.route("GET", "/api/v1/apps/:app/dashboards/:dashboard/data", "reports", "Every widget's data of a published dashboard (query: from, to, filter)", s.dashboardData)
	s.route("GET", "/api/v1/apps/:app/reports/:report/export", "reports", "Export a report as CSV or XLSX (format=csv|xlsx), audited", s.reportExport)
	s.route("GET", "/api/v1/apps/:app/entities/:entity/export", "reports", "Export records as CSV or XLSX (format, filter), audited", s.entityExport)
	return nil
}

// reportApp loads the app of the path, answering 404 when it does not exist or the caller
// cannot open it.
func (s *Server) reportApp(c *fiber.Ctx) (*auth.Principal, *defs.App, error) {
	p, err := auth.Require(c)
	if err != nil {
		return nil, nil, err
	}
	app, err := s.readableApp(c.UserContext(), p, c.Params("app"), problem.NotFound("app not found (应用不存在)"))
	if err != nil {
		return nil, nil, err
	}
	return p, app, nil
}

// grant asks the authorizer, answering 403 when the action is denied.
func (s *Server) grant(ctx context.Context, p *auth.Principal, app *defs.App, resource, action string) (access.Grant, error) {
	g, err := s.Authz.Grant(ctx, p.Subject(), app.ID, resource, action)
	if err != nil {
		return g, fmt.Errorf("checking %s %s: %w", action, resource, err)
	}
	if !g.Allowed() {
		return g, problem.Forbidden(fmt.Sprintf("you may not %s %s (没有权限)", action, resource))
	}
	return g, nil
}

// publishedReport loads a published report and checks the caller may read it; it answers the
// report and the caller's grant on its entity for entityAction (the row scope).
func (s *Server) publishedReport(c *fiber.Ctx, p *auth.Principal, app *defs.App, slug, entityAction string) (*spec.Report, access.Grant, error) {
	ctx := c.UserContext()
	if _, err := s.grant(ctx, p, app, "report:"+slug, "read"); err != nil {
		return nil, access.Grant{}, err
	}
	rep, _, err := s.Defs.Report(ctx, app.ID, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, access.Grant{}, problem.NotFound("report not found (报表不存在)")
	}
	if err != nil {
		return nil, access.Grant{}, err
	}
	g, err := s.grant(ctx, p, app, "entity:"+rep.Entity, entityAction)
	return rep, g, err
}

// reportParams reads the runtime parameters: from, to (RFC 3339 or YYYY-MM-DD in the app's
// time zone; a date-only "to" includes that day), filter (JSON) and locale.
func reportParams(c *fiber.Ctx, app *defs.App, p *auth.Principal) (report.Params, error) {
	var out report.Params
	tz := report.Timezone(app)
	var errs spec.Errors
	parse := func(name string, endOfDay bool) *time.Time {
		raw := strings.TrimSpace(c.Query(name))
		if raw == "" {
			return nil
		}
		if t, ok := report.ParseTime(raw, tz, endOfDay); ok {
			return &t
		}
		errs.Add(name, "invalid", "%[1]s must be a date (YYYY-MM-DD) or an RFC 3339 time (%[1]s 须为日期 YYYY-MM-DD 或 RFC 3339 时间)", name)
		return nil
	}
	out.From = parse("from", false)
	out.To = parse("to", true)
	if out.From != nil && out.To != nil && !out.To.After(*out.From) {
		errs.Add("to", "invalid_range", "to must be after from (结束日期须晚于开始日期)")
	}
	if f := c.Query("filter"); f != "" {
		if !json.Valid([]byte(f)) {
			errs.Add("filter", "invalid_json", "filter must be JSON (filter 须为 JSON)")
		}
		out.Filter = json.RawMessage(f)
	}
	out.Locale = c.Query("locale")
	if out.Locale == "" {
		if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderAcceptLanguage)), "en") {
			out.Locale = "en"
		} else if p != nil && p.Locale != "" {
			out.Locale = p.Locale
		}
	}
	if len(errs) > 0 {
		return out, problem.Validation(errs)
	}
	return out, nil
}

// reportError turns definition errors into 422 and timeouts into 503.
func reportError(err error) error {
	var fe spec.Errors
	if errors.As(err, &fe) {
		return problem.Validation(fe)
	}
	if errors.Is(err, report.ErrTimeout) {
		return problem.New(fiber.StatusServiceUnavailable, "the report took too long; narrow it with filters or a date range (报表查询超时，请用筛选条件或日期范围缩小查询)")
	}
	return err
}

func (s *Server) reportData(c *fiber.Ctx) error {
	p, app, err := s.reportApp(c)
	if err != nil {
		return err
	}
	rep, g, err := s.publishedReport(c, p, app, c.Params("report"), "read")
	if err != nil {
		return err
	}
	params, err := reportParams(c, app, p)
	if err != nil {
		return err
	}
	res, err := s.Reports.Run(c.UserContext(), app, rep, params, g)
	if err != nil {
		return reportError(err)
	}
	if err := s.nameRelations(c.UserContext(), p, app, rep, res); err != nil {
		return err
	}
	return c.JSON(res)
}

// nameRelations gives the columns of res that group by a relation field the linked records'
// names as option labels (products by name, not id), resolved in one query and only for records
// the caller may read; others keep their id.
func (s *Server) nameRelations(ctx context.Context, p *auth.Principal, app *defs.App, rep *spec.Report, res *report.Result) error {
	if res == nil || len(res.Rows) == 0 {
		return nil
	}
	ent, _, err := s.Defs.Entity(ctx, app.ID, rep.Entity)
	if err != nil {
		return nil // the run already answered for the entity
	}
	dims := report.RelationDims(ent, rep)
	if len(dims) == 0 {
		return nil
	}
	cols := map[int]*spec.Field{}
	for i, c := range res.Columns {
		if f := dims[c.Key]; f != nil && c.Options == nil {
			cols[i] = f
		}
	}
	sub := p.Subject()
	names, err := s.Records.ColumnDisplay(ctx, app, cols, res.Rows, func(ctx context.Context, entity string) (access.Grant, error) {
		return s.Authz.Grant(ctx, sub, app.ID, "entity:"+entity, "read")
	})
	if err != nil {
		return fmt.Errorf("naming the report's linked records: %w", err)
	}
	for i, m := range names {
		if len(m) > 0 {
			res.Columns[i].Options = m
		}
	}
	return nil
}

func (s *Server) reportPreview(c *fiber.Ctx) error {
	p, app, err := s.reportApp(c)
	if err != nil {
		return err
	}
	if len(c.Body()) > previewBodyLimit {
		return problem.New(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("a report definition is at most %d KiB (报表定义过大)", previewBodyLimit>>10))
	}
	var rep spec.Report
	if err := bindJSON(c, &rep); err != nil {
		return err
	}
	if rep.Entity == "" {
		return problem.Validation(specErrors("entity", "required", "entity is required (entity 为必填项)"))
	}
	if rep.Slug == "" {
		rep.Slug = "preview"
	}
	g, err := s.grant(c.UserContext(), p, app, "entity:"+rep.Entity, "read")
	if err != nil {
		return err
	}
	params, err := reportParams(c, app, p)
	if err != nil {
		return err
	}
	res, err := s.Reports.Run(c.UserContext(), app, &rep, params, g)
	if err != nil {
		return reportError(err)
	}
	if err := s.nameRelations(c.UserContext(), p, app, &rep, res); err != nil {
		return err
	}
	return c.JSON(res)
}

// previewBodyLimit bounds the unsaved definition a preview runs.
const previewBodyLimit = 256 << 10

// widgetData is one dashboard widget with its data or the problem that kept it from running.
type widgetData struct {
	spec.Widget
	Data  *report.Result `json:"data,omitempty"`
	Error *widgetError   `json:"error,omitempty"`
	// IgnoredFilters are the shared filter fields the widget's entity does not have.
	IgnoredFilters []string `json:"ignored_filters,omitempty"`
}

type widgetError struct {
	Status int         `json:"status"`
	Detail string      `json:"detail"`
	Errors spec.Errors `json:"errors,omitempty"`
}

func (s *Server) dashboardData(c *fiber.Ctx) error {
	p, app, err := s.reportApp(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	slug := c.Params("dashboard")
	if _, err := s.grant(ctx, p, app, "dashboard:"+slug, "read"); err != nil {
		return err
	}
	v, version, err := s.Defs.Published(ctx, app.ID, spec.KindDashboard, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("dashboard not found (仪表盘不存在)")
	}
	if err != nil {
		return err
	}
	dash := v.(*spec.Dashboard)
	params, err := reportParams(c, app, p)
	if err != nil {
		return err
	}
	// The dashboard's own shared filters apply under the caller's runtime filter; each widget
	// takes the conditions on fields its entity has (see report.NarrowFilter).
	shared := report.AndFilters(dash.Filters, params.Filter)
	out := make([]widgetData, len(dash.Widgets))
	errs := make([]error, len(dash.Widgets))
	// Permissions and definitions first (cached, cheap), then the queries, up to 4 at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, w := range dash.Widgets {
		out[i].Widget = w
		rep, g, err := s.publishedReport(c, p, app, w.Report, "read")
		if err != nil {
			errs[i] = err
			continue
		}
		wp := params
		if ent, _, err := s.Defs.Entity(ctx, app.ID, rep.Entity); err == nil {
			wp.Filter, out[i].IgnoredFilters = report.NarrowFilter(shared, ent)
		} else {
			wp.Filter = shared // the run answers the missing entity
		}
		wg.Add(1)
		go func(i int, rep *spec.Report, g access.Grant, wp report.Params) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if out[i].Data, errs[i] = s.Reports.Run(ctx, app, rep, wp, g); errs[i] == nil {
				errs[i] = s.nameRelations(ctx, p, app, rep, out[i].Data)
			}
		}(i, rep, g, wp)
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			continue
		}
		pr := problem.From(reportError(err))
		if pr.Status >= 500 {
			return err
		}
		we := &widgetError{Status: pr.Status, Detail: pr.Detail}
		var fe spec.Errors
		if errors.As(err, &fe) {
			we.Errors = fe
		}
		out[i].Error = we
	}
	return c.JSON(fiber.Map{"slug": dash.Slug, "label": dash.Label, "version": version, "filters": dash.Filters, "widgets": out})
}

func (s *Server) reportExport(c *fiber.Ctx) error {
	p, app, err := s.reportApp(c)
	if err != nil {
		return err
	}
	slug := c.Params("report")
	rep, g, err := s.publishedReport(c, p, app, slug, "export")
	if err != nil {
		return err
	}
	return s.export(c, p, app, rep, g, fmt.Sprintf("%s:reports/%s", app.Slug, slug), slug, nil)
}

func (s *Server) entityExport(c *fiber.Ctx) error {
	p, app, err := s.reportApp(c)
	if err != nil {
		return err
	}
	slug := c.Params("entity")
	g, err := s.grant(c.UserContext(), p, app, "entity:"+slug, "export")
	if err != nil {
		return err
	}
	ent, _, err := s.Defs.Entity(c.UserContext(), app.ID, slug)
	if errors.Is(err, defs.ErrNotFound) {
		return problem.NotFound("entity not found (实体不存在)")
	} else if err != nil {
		return err
	}
	rep := &spec.Report{Slug: slug, Entity: slug, Kind: report.KindTable}
	if sort := c.Query("sort"); sort != "" {
		rep.Sort = strings.Split(sort, ",")
	}
	// columns=a,b,c exports the current view's columns in its order (every visible field by default)
	if cols := strings.TrimSpace(c.Query("columns")); cols != "" {
		for _, k := range strings.Split(cols, ",") {
			if k = strings.TrimSpace(k); k != "" {
				rep.Dimensions = append(rep.Dimensions, spec.Dimension{Field: k})
			}
		}
	}
	// Relation, user and team ids leave as names (the list's display rules: a linked record the
	// caller may not read is a placeholder).
	sub := p.Subject()
	read := func(ctx context.Context, entity string) (access.Grant, error) {
		return s.Authz.Grant(ctx, sub, app.ID, "entity:"+entity, "read")
	}
	placeholder := "受限记录"
	if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderAcceptLanguage)), "en") || strings.HasPrefix(c.Query("locale"), "en") {
		placeholder = "Restricted record"
	}
	namer := func(ctx context.Context, cols []report.Column, rows [][]any) error {
		keys := make([]string, len(cols))
		for i, col := range cols {
			keys[i] = col.Key
		}
		return s.Records.NameRows(ctx, app, ent, keys, rows, read, placeholder)
	}
	return s.export(c, p, app, rep, g, fmt.Sprintf("%s:entities/%s", app.Slug, slug), slug, namer)
}

// export streams rep as CSV (UTF-8 with BOM, so spreadsheet apps read Chinese text) or XLSX and
// writes an audit_log row (actor, action "export", target, rows) once the last row is out.
// namer, when set, rewrites each batch of rows before it is written (ids to names).
func (s *Server) export(c *fiber.Ctx, p *auth.Principal, app *defs.App, rep *spec.Report, g access.Grant, target, name string, namer func(context.Context, []report.Column, [][]any) error) error {
	format := c.Query("format", "csv")
	if format != "csv" && format != "xlsx" {
		return problem.Validation(specErrors("format", "invalid", "format must be csv or xlsx (format 须为 csv 或 xlsx)"))
	}
	params, err := reportParams(c, app, p)
	if err != nil {
		return err
	}
	params.Limit = report.MaxExport
	q, err := s.Reports.Prepare(c.UserContext(), app, rep, params, g)
	if err != nil {
		return reportError(err)
	}
	// Funnels are reshaped in Go: run them whole (they are small).
	var whole *report.Result
	if q.HasPost() {
		if whole, err = s.Reports.Run(c.UserContext(), app, rep, params, g); err != nil {
			return reportError(err)
		}
	}
	filename := fmt.Sprintf("%s-%s.%s", name, time.Now().In(report.Timezone(app)).Format("20060102-150405"), format)
	if format == "csv" {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	actor := p.UserID
	log := s.Log
	pool := s.DB.Pool
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		rows, err := writeExport(ctx, w, format, q.Columns, func(fn func([]any) error) error {
			if whole != nil {
				for _, r := range whole.Rows {
					if err := fn(r); err != nil {
						return err
					}
				}
				return nil
			}
			if namer == nil {
				return s.Reports.Stream(ctx, q, fn)
			}
			// name the rows in batches: one display query per batch
			batch := make([][]any, 0, exportBatch)
			flush := func() error {
				if err := namer(ctx, q.Columns, batch); err != nil {
					return err
				}
				for _, r := range batch {
					if err := fn(r); err != nil {
						return err
					}
				}
				batch = batch[:0]
				return nil
			}
			if err := s.Reports.Stream(ctx, q, func(r []any) error {
				batch = append(batch, r)
				if len(batch) == exportBatch {
					return flush()
				}
				return nil
			}); err != nil {
				return err
			}
			return flush()
		})
		status := "ok"
		if err != nil {
			status = err.Error()
			log.Error("export failed", "target", target, "err", err)
		}
		after, _ := json.Marshal(map[string]any{"format": format, "rows": rows, "status": status, "filter": params.Filter,
			"from": params.From, "to": params.To, "sort": rep.Sort})
		if _, err := pool.Exec(ctx, `INSERT INTO audit_log (actor, action, target, after) VALUES ($1, 'export', $2, $3)`, actor, target, after); err != nil {
			log.Error("auditing export", "target", target, "err", err)
		}
	})
	return nil
}

// exportBatch is how many exported rows share one display-name query.
const exportBatch = 500

// writeExport writes the header and every row produced by each to w; it answers the row count.
func writeExport(ctx context.Context, w *bufio.Writer, format string, cols []report.Column, each func(func([]any) error) error) (int, error) {
	n := 0
	header := make([]string, len(cols))
	for i, col := range cols {
		header[i] = col.Label
		if header[i] == "" {
			header[i] = col.Key
		}
	}
	if format == "csv" {
		_, _ = w.WriteString("\ufeff")
		cw := csv.NewWriter(w)
		safe := make([]string, len(header))
		for i, h := range header {
			safe[i] = report.CSVSafe(h)
		}
		_ = cw.Write(safe)
		rec := make([]string, len(cols))
		err := each(func(row []any) error {
			for i, v := range row {
				rec[i] = cellText(v)
				if _, text := v.(string); text {
					rec[i] = report.CSVSafe(rec[i])
				}
			}
			n++
			if err := cw.Write(rec); err != nil {
				return err
			}
			if n%1000 == 0 {
				cw.Flush()
				return w.Flush()
			}
			return nil
		})
		cw.Flush()
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
		return n, err
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, fmt.Errorf("starting xlsx: %w", err)
	}
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	if err := sw.SetRow("A1", hdr); err != nil {
		return 0, fmt.Errorf("writing xlsx header: %w", err)
	}
	err = each(func(row []any) error {
		cells := make([]any, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case int64, float64, bool, nil:
				cells[i] = x
			default:
				cells[i] = cellText(v)
			}
		}
		n++
		cell, _ := excelize.CoordinatesToCellName(1, n+1)
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return n, err
	}
	if err := sw.Flush(); err != nil {
		return n, fmt.Errorf("finishing xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return n, fmt.Errorf("writing xlsx: %w", err)
	}
	return n, w.Flush()
}

// cellText renders a value for CSV.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
