package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/defs"
	"github.com/tessera/tessera/runtime/engine"
	"github.com/tessera/tessera/runtime/report"
)

// flowReports adapts runtime/report to the engine's report node: a published report runs with
// the flow's identity (the service role sees every record; a trigger user's run keeps that
// user's report permission and row scope).
type flowReports struct{ s *Server }

func (a flowReports) RunReport(ctx context.Context, c engine.ReportCall) (*engine.ReportTable, error) {
	if a.s.Reports == nil {
		return nil, errors.New("reports are not available")
	}
	app, err := a.s.Defs.AppByID(ctx, c.AppID)
	if err != nil {
		return nil, err
	}
	rep, _, err := a.s.Defs.Report(ctx, app.ID, c.Report)
	if errors.Is(err, defs.ErrNotFound) {
		return nil, engine.Permanent(fmt.Errorf("report %q is not published", c.Report))
	}
	if err != nil {
		return nil, err
	}
	g := access.All()
	if !c.Subject.System && !c.Subject.IsAdmin {
		rg, err := a.s.Authz.Grant(ctx, c.Subject, app.ID, "report:"+c.Report, "read")
		if err != nil {
			return nil, err
		}
		if !rg.Allowed() {
			return nil, engine.Permanent(fmt.Errorf("the flow's user may not read report %s", c.Report))
		}
		if g, err = a.s.Authz.Grant(ctx, c.Subject, app.ID, "entity:"+rep.Entity, "read"); err != nil {
			return nil, err
		}
		if !g.Allowed() {
			return nil, engine.Permanent(fmt.Errorf("the flow's user may not read %s records", rep.Entity))
		}
	}
	params, err := flowReportParams(c, app)
	if err != nil {
		return nil, engine.Permanent(err)
	}
	res, err := a.s.Reports.Run(ctx, app, rep, params, g)
	var fe spec.Errors
	if errors.As(err, &fe) {
		return nil, engine.Permanent(err)
	}
	if err != nil {
		return nil, err
	}
	out := &engine.ReportTable{Rows: res.Rows}
	for _, col := range res.Columns {
		out.Columns = append(out.Columns, engine.ReportColumn{Key: col.Key, Label: col.Label, Type: col.Type, Options: col.Options})
	}
	return out, nil
}

// flowReportParams turns a report node's period, from, to, filter, locale and limit into
// report parameters, reading dates in the app's time zone like the data route does.
func flowReportParams(c engine.ReportCall, app *defs.App) (report.Params, error) {
	tz := report.Timezone(app)
	out := report.Params{Locale: c.Locale, Limit: c.Limit}
	if c.Period != "" {
		from, to, err := report.PeriodRange(c.Period, time.Now(), tz)
		if err != nil {
			return out, err
		}
		out.From, out.To = &from, &to
	} else {
		parse := func(name, raw string, endOfDay bool) (*time.Time, error) {
			raw = strings.TrimSpace(raw)
			if raw == "" {
				return nil, nil
			}
			if t, ok := report.ParseTime(raw, tz, endOfDay); ok {
				return &t, nil
			}
			return nil, fmt.Errorf("%s %q must be a date (YYYY-MM-DD) or an RFC 3339 time", name, raw)
		}
		var err error
		if out.From, err = parse("from", c.From, false); err != nil {
			return out, err
		}
		if out.To, err = parse("to", c.To, true); err != nil {
			return out, err
		}
	}
	if len(c.Filter) > 0 {
		raw, err := json.Marshal(c.Filter)
		if err != nil {
			return out, fmt.Errorf("encoding the filter: %w", err)
		}
		out.Filter = raw
	}
	if out.Locale == "" {
		out.Locale = "zh-CN"
	}
	return out, nil
}
