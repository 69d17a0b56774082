package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/runtime/access"
	"github.com/tessera/tessera/runtime/notify"
	"github.com/tessera/tessera/runtime/report"
)

// ReportCall is one published report a flow runs.
type ReportCall struct {
	AppID   uuid.UUID
	Subject access.Subject
	Report  string
	// From and To bound the report's date field: YYYY-MM-DD in the app's time zone (To
	// includes that day) or RFC 3339; empty is unbounded. Period, when set, wins over both.
	From, To string
	Period   string
	Filter   map[string]any
	Locale   string
	Limit    int
}

// ReportColumn is one column of a report's answer.
type ReportColumn struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type,omitempty"`
	// Options are the labels of stored option values (select fields, stages).
	Options map[string]string `json:"options,omitempty"`
}

// ReportTable is a report's answer.
type ReportTable struct {
	Columns []ReportColumn `json:"columns"`
	Rows    [][]any        `json:"rows"`
}

// ReportRunner runs published reports with the flow's identity (the server wires runtime/report).
type ReportRunner interface {
	RunReport(ctx context.Context, c ReportCall) (*ReportTable, error)
}

// ReportPeriods are the named date ranges a report node accepts (weeks start on Monday).
var ReportPeriods = []string{"today", "yesterday", "this_week", "last_week", "this_month", "last_month",
	"this_quarter", "last_quarter", "this_year", "last_year", "last_7_days", "last_30_days"}

// maxReportRows bounds what a report node keeps in the run history.
const maxReportRows = 5000

func init() {
	Register(NodeType{Name: "report", Category: "records", Label: spec.Label{"en": "Run report", "zh-CN": "运行报表"},
		Params: paramsOf("report"),
		New:    newReportNode})
	Register(NodeType{Name: "notify", Category: "people", Label: spec.Label{"en": "Notify", "zh-CN": "站内通知"},
		Params: paramsOf("notify"),
		New:    newNotifyNode})
}

// ---- report

type reportNode struct {
	report, period, locale string
	name                   NameParam // report, maybe a template
	from, to, filter       Value
	limit                  int
}

func newReportNode(p *Params) (Runner, spec.Errors) {
	var v struct {
		Report string          `json:"report"`
		Period string          `json:"period"`
		From   json.RawMessage `json:"from"`
		To     json.RawMessage `json:"to"`
		Filter json.RawMessage `json:"filter"`
		Locale string          `json:"locale"`
		Limit  int             `json:"limit"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &reportNode{report: v.Report, name: p.Name("report", v.Report), period: v.Period, locale: v.Locale, limit: v.Limit}
	p.Required("report", v.Report)
	if v.Period != "" && !contains(ReportPeriods, v.Period) {
		p.Errorf("period", "invalid", "period must be one of %s", strings.Join(ReportPeriods, ", "))
	}
	if v.Locale != "" && v.Locale != "zh-CN" && v.Locale != "en" {
		p.Errorf("locale", "invalid", `locale must be "zh-CN" or "en"`)
	}
	if v.Limit < 0 || v.Limit > maxReportRows {
		p.Errorf("limit", "out_of_range", "limit must be 0 to %d", maxReportRows)
	}
	if len(v.From) > 0 {
		n.from = p.Value("from", v.From)
	}
	if len(v.To) > 0 {
		n.to = p.Value("to", v.To)
	}
	if len(v.Filter) > 0 {
		n.filter = p.Value("filter", v.Filter)
	}
	return n, p.Errors()
}

func (n *reportNode) Exec(x *Exec) (Result, error) {
	rr := x.Engine.opts.Reports
	if rr == nil {
		return Result{}, errors.New("reports are not available")
	}
	report, err := n.name.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	call := ReportCall{AppID: x.AppID, Subject: x.Subject, Report: report, Period: n.period, Locale: n.locale, Limit: n.limit}
	for _, b := range []struct {
		v   Value
		out *string
	}{{n.from, &call.From}, {n.to, &call.To}} {
		if b.v == nil {
			continue
		}
		out, err := b.v.Eval(x.Env)
		if err != nil {
			return Result{}, err
		}
		*b.out = strings.TrimSpace(Stringify(out))
	}
	f, err := evalMap(n.filter, x.Env, "filter")
	if err != nil {
		return Result{}, err
	}
	call.Filter = f
	x.Input = map[string]any{"report": call.Report, "period": call.Period, "from": call.From, "to": call.To, "filter": call.Filter}
	t, err := rr.RunReport(x.Ctx, call)
	if err != nil {
		return Result{}, fmt.Errorf("running report %s: %w", report, err)
	}
	return Result{Output: reportOutput(report, t)}, nil
}

// reportOutput is a report node's output: the table as the API answers it, the rows as
// objects keyed by column (for foreach and templates), and the table rendered as plain text,
// HTML and a CSV attachment (for the email connector's text, html and attachments), which show
// option values (stages, select fields) as their labels.
func reportOutput(slug string, t *ReportTable) map[string]any {
	cols := make([]any, len(t.Columns))
	labels := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = map[string]any{"key": c.Key, "label": c.Label, "type": c.Type}
		if c.Options != nil {
			opts := map[string]any{}
			for k, v := range c.Options {
				opts[k] = v
			}
			cols[i].(map[string]any)["options"] = opts
		}
		labels[i] = c.Label
		if labels[i] == "" {
			labels[i] = c.Key
		}
	}
	rows := make([]any, len(t.Rows))
	items := make([]any, len(t.Rows))
	cells := make([][]string, len(t.Rows))
	for r, row := range t.Rows {
		item := map[string]any{}
		cells[r] = make([]string, len(t.Columns))
		for i, c := range t.Columns {
			var v any
			if i < len(row) {
				v = toJSONable(row[i])
			}
			item[c.Key] = v
			cells[r][i] = Stringify(optionLabel(v, c.Options))
		}
		rows[r] = toJSONable(row)
		items[r] = item
	}
	return map[string]any{
		"report": slug, "columns": cols, "rows": rows, "items": items, "count": len(t.Rows),
		"text": textTable(labels, cells), "html": htmlTable(labels, cells),
		"csv": map[string]any{"name": slug + ".csv", "type": "text/csv", "data": base64.StdEncoding.EncodeToString(csvTable(labels, cells))},
	}
}

// optionLabel shows a stored option value (or each of a list) as its label.
func optionLabel(v any, labels map[string]string) any {
	switch x := v.(type) {
	case string:
		if l, ok := labels[x]; ok {
			return l
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = optionLabel(e, labels)
		}
		return out
	}
	return v
}

// textTable is the table as " | "-separated lines under a header line.
func textTable(labels []string, cells [][]string) string {
	var b strings.Builder
	b.WriteString(strings.Join(labels, " | "))
	for _, row := range cells {
		b.WriteString("\n")
		b.WriteString(strings.Join(row, " | "))
	}
	return b.String()
}

// htmlTable is the table as an HTML <table> with every cell escaped.
func htmlTable(labels []string, cells [][]string) string {
	var b strings.Builder
	b.WriteString(`<table border="1" cellpadding="4" style="border-collapse:collapse"><thead><tr>`)
	for _, l := range labels {
		b.WriteString("<th>" + html.EscapeString(l) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, row := range cells {
		b.WriteString("<tr>")
		for _, c := range row {
			b.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// csvTable is the table as CSV with a UTF-8 byte order mark (Excel then reads Chinese text
// right); cells that spreadsheet programs would run as formulas are quoted with a leading '.
func csvTable(labels []string, cells [][]string) []byte {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	safe := func(row []string) []string {
		out := make([]string, len(row))
		for i, c := range row {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				c = report.CSVSafe(c) // text only: a number such as -3 stays a number
			}
			out[i] = c
		}
		return out
	}
	_ = w.Write(safe(labels))
	for _, row := range cells {
		_ = w.Write(safe(row))
	}
	w.Flush()
	return buf.Bytes()
}

// ---- notify

type notifyNode struct {
	to, title, body, record Value
	link                    string
}

func newNotifyNode(p *Params) (Runner, spec.Errors) {
	var v struct {
		To     json.RawMessage `json:"to"`
		Title  json.RawMessage `json:"title"`
		Body   json.RawMessage `json:"body"`
		Record json.RawMessage `json:"record"`
		Link   string          `json:"link"`
	}
	if !p.Decode(&v) {
		return nil, p.Errors()
	}
	n := &notifyNode{link: v.Link}
	if len(v.To) == 0 {
		p.Errorf("to", "required", "to is required")
	} else {
		n.to = p.Value("to", v.To)
	}
	if len(v.Title) == 0 {
		p.Errorf("title", "required", "title is required")
	} else {
		n.title = p.Value("title", v.Title)
	}
	if len(v.Body) > 0 {
		n.body = p.Value("body", v.Body)
	}
	if len(v.Record) > 0 {
		n.record = p.Value("record", v.Record)
	}
	if v.Link != "" && (!strings.HasPrefix(v.Link, "/") || strings.HasPrefix(v.Link, "//") || strings.ContainsAny(v.Link, "\\ \t\r\n")) {
		p.Errorf("link", "invalid", "link must be a path of this server starting with one /")
	}
	return n, p.Errors()
}

// maxNotifyText bounds a notification's title and body.
const maxNotifyText = 4000

func (n *notifyNode) Exec(x *Exec) (Result, error) {
	tv, err := n.title.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	title := strings.TrimSpace(Stringify(tv))
	if title == "" {
		return Result{}, Permanent(errors.New("the notification title is empty"))
	}
	body := ""
	if n.body != nil {
		bv, err := n.body.Eval(x.Env)
		if err != nil {
			return Result{}, err
		}
		body = strings.TrimSpace(Stringify(toJSONable(bv)))
	}
	if len(title) > maxNotifyText || len(body) > maxNotifyText {
		return Result{}, Permanent(fmt.Errorf("the notification title and body are limited to %d bytes each", maxNotifyText))
	}
	rec, err := optionalID(n.record, x.Env)
	if err != nil {
		return Result{}, err
	}
	tov, err := n.to.Eval(x.Env)
	if err != nil {
		return Result{}, err
	}
	refs, ok := toJSONable(tov).([]any)
	if !ok {
		refs = []any{toJSONable(tov)}
	}
	var users []uuid.UUID
	var nobody []any
	seen := map[uuid.UUID]bool{}
	for _, ref := range refs {
		ids, err := x.people(ref)
		if errors.Is(err, ErrNoPeople) {
			// a role nobody holds yet is not a failure of the flow; the output names it
			nobody = append(nobody, ref)
			continue
		}
		if err != nil {
			return Result{}, Permanent(err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				users = append(users, id)
			}
		}
	}
	params := map[string]any{}
	if body != "" {
		params["body"] = body
	}
	if n.link != "" {
		params["link"] = n.link
	}
	x.Input = map[string]any{"to": tov, "title": title}
	sent := 0
	err = pgx.BeginFunc(x.Ctx, x.Engine.Pool, func(tx pgx.Tx) error {
		for _, u := range users {
			ok, err := notify.Send(x.Ctx, tx, notify.Notification{UserID: u, Kind: notify.KindMessage, Title: title, Params: params,
				AppID: &x.AppID, RunID: &x.RunID, RecordID: rec, Key: notify.KindMessage + ":" + x.Key + ":" + u.String()})
			if err != nil {
				return err
			}
			if ok {
				sent++
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("notifying: %w", err)
	}
	ids := make([]any, len(users))
	for i, u := range users {
		ids[i] = u.String()
	}
	out := map[string]any{"users": ids, "sent": sent}
	if len(nobody) > 0 {
		out["nobody"] = nobody
	}
	return Result{Output: out}, nil
}
