// Package spec defines the JSON definition types (entities, forms, flows, reports, dashboards) and
// their strict decoding. It imports only the standard library.
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// SchemaVersion is the version of the definition format written into exports.
const SchemaVersion = 1

// Kinds of definitions, as used in URLs (/apps/{app}/{kind}/{slug}).
const (
	KindEntity    = "entities"
	KindForm      = "forms"
	KindFlow      = "flows"
	KindReport    = "reports"
	KindDashboard = "dashboards"
)

// Kinds lists every definition kind in publish order (entities before what refers to them).
var Kinds = []string{KindEntity, KindForm, KindFlow, KindReport, KindDashboard}

// Label is a localized text: {"en": "...", "zh-CN": "..."}. A plain JSON string is accepted too.
type Label map[string]string

// UnmarshalJSON accepts a string (used for every locale) or an object of locale -> text.
func (l *Label) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = Label{"en": s, "zh-CN": s}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New("label must be a string or an object of locale to text (标签须为文本，或语言到文本的对象)")
	}
	*l = m
	return nil
}

// Text returns the label in locale, falling back to en, zh-CN, then fallback.
func (l Label) Text(locale, fallback string) string {
	for _, k := range []string{locale, "en", "zh-CN"} {
		if v := l[k]; v != "" {
			return v
		}
	}
	return fallback
}

// Field types.
const (
	TypeText        = "text"
	TypeTextarea    = "textarea"
	TypeNumber      = "number"
	TypeMoney       = "money"
	TypePercent     = "percent"
	TypeEmail       = "email"
	TypePhone       = "phone"
	TypeURL         = "url"
	TypeDate        = "date"
	TypeDatetime    = "datetime"
	TypeSelect      = "select"
	TypeMultiselect = "multiselect"
	TypeBoolean     = "boolean"
	TypeUser        = "user"
	TypeTeam        = "team"
	TypeRelation    = "relation"
	TypeAttachment  = "attachment"
	TypeAutonumber  = "autonumber"
	TypeFormula     = "formula"
	// TypeLines holds child rows (line items) with their own typed sub-fields (Field.Fields).
	TypeLines = "lines"
)

// FieldTypes lists every supported field type.
var FieldTypes = []string{TypeText, TypeTextarea, TypeNumber, TypeMoney, TypePercent, TypeEmail,
	TypePhone, TypeURL, TypeDate, TypeDatetime, TypeSelect, TypeMultiselect, TypeBoolean, TypeUser,
	TypeTeam, TypeRelation, TypeAttachment, TypeAutonumber, TypeFormula, TypeLines}

// LineFieldTypes are the types a sub-field of a lines field may have.
var LineFieldTypes = []string{TypeText, TypeTextarea, TypeNumber, TypeMoney, TypePercent, TypeEmail,
	TypePhone, TypeURL, TypeDate, TypeDatetime, TypeSelect, TypeBoolean, TypeUser, TypeRelation, TypeFormula}

// LineID is the key of a line's stable id (a UUID the server assigns to every row).
const LineID = "id"

// Option is one choice of a select field. In JSON it may be a plain string (value = label).
type Option struct {
	Value string `json:"value"`
	Label Label  `json:"label,omitempty"`
	Color string `json:"color,omitempty"`
}

// UnmarshalJSON accepts "value" or {"value","label","color"}.
func (o *Option) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = Option{Value: s}
		return nil
	}
	type plain Option
	var p plain
	if err := strictUnmarshal(b, &p); err != nil {
		return err
	}
	*o = Option(p)
	return nil
}

// MarshalJSON writes a bare string when the option has only a value.
func (o Option) MarshalJSON() ([]byte, error) {
	if len(o.Label) == 0 && o.Color == "" {
		return json.Marshal(o.Value)
	}
	type plain Option
	return json.Marshal(plain(o))
}

// Field is one field of an entity.
type Field struct {
	Key         string          `json:"key"`
	Type        string          `json:"type"`
	Label       Label           `json:"label,omitempty"`
	Help        Label           `json:"help,omitempty"`
	Required    bool            `json:"required,omitempty"`
	Unique      bool            `json:"unique,omitempty"`
	Indexed     bool            `json:"indexed,omitempty"`
	Multiple    bool            `json:"multiple,omitempty"`
	Options     []Option        `json:"options,omitempty"`
	Default     json.RawMessage `json:"default,omitempty"`
	Min         *float64        `json:"min,omitempty"`
	Max         *float64        `json:"max,omitempty"`
	MaxLength   int             `json:"max_length,omitempty"`
	Pattern     string          `json:"pattern,omitempty"`
	Precision   *int            `json:"precision,omitempty"`
	Currency    string          `json:"currency,omitempty"`
	Region      string          `json:"region,omitempty"`      // phone: default region, CN when empty
	Target      string          `json:"target,omitempty"`      // relation: target entity slug
	Formula     string          `json:"formula,omitempty"`     // formula: expr expression over record
	Prefix      string          `json:"prefix,omitempty"`      // autonumber prefix
	Accept      []string        `json:"accept,omitempty"`      // attachment: allowed MIME types
	MaxSize     int64           `json:"max_size,omitempty"`    // attachment: bytes per file
	Searchable  *bool           `json:"searchable,omitempty"`  // included in full-text q (default true for text-like)
	Sensitive   bool            `json:"sensitive,omitempty"`   // personal data (PIPL): export is audited
	Description string          `json:"description,omitempty"` // builder notes
	// Lines fields: the sub-fields of every row and the most rows a record may hold (200 by
	// default). Sub-field formulas see the row as `line` and the record as `record`.
	Fields  []Field `json:"fields,omitempty"`
	MaxRows int     `json:"max_rows,omitempty"`
	// Fill, on a relation sub-field of a lines field, copies fields of the chosen record into
	// the row: {"<sub-field>": "<field of the target entity>"}.
	Fill map[string]string `json:"fill,omitempty"`
	// ReadOnly, on a sub-field of a lines field, keeps the column server-owned: values sent by
	// clients are ignored and it is filled only from its relation's Fill.
	ReadOnly bool `json:"readonly,omitempty"`
}

// SubField returns the sub-field with key of a lines field, or nil.
func (f *Field) SubField(key string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Key == key {
			return &f.Fields[i]
		}
	}
	return nil
}

// Transition is a stage gate: moving from From to To requires Require (an expression) to hold.
// From or To may be "*" for any stage.
type Transition struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Require string `json:"require,omitempty"`
	Message string `json:"message,omitempty"`
	Allow   *bool  `json:"allow,omitempty"` // false forbids the move outright
}

// Stages declares a stage (pipeline) field, its order and its gates.
type Stages struct {
	Field       string             `json:"field"`
	Order       []string           `json:"order"`
	Transitions []Transition       `json:"transitions,omitempty"`
	Terminal    []string           `json:"terminal,omitempty"`
	Probability map[string]float64 `json:"probability,omitempty"` // forecast weight per stage (0..1)
	Strict      bool               `json:"strict,omitempty"`      // only listed transitions are allowed
}

// Dedupe declares duplicate detection keys: each key is a list of fields that together identify
// a record; a match merges into the existing record or rejects the write.
type Dedupe struct {
	Keys        [][]string `json:"keys"`
	OnDuplicate string     `json:"on_duplicate,omitempty"` // merge (default) | reject
}

// Entity is a record type.
type Entity struct {
	Slug        string   `json:"slug"`
	Label       Label    `json:"label,omitempty"`
	Description string   `json:"description,omitempty"`
	Fields      []Field  `json:"fields"`
	Stages      *Stages  `json:"stages,omitempty"`
	Dedupe      *Dedupe  `json:"dedupe,omitempty"`
	TitleField  string   `json:"title_field,omitempty"`
	ReportIndex []string `json:"report_index,omitempty"` // fields to index for reports
}

// Field returns the field with key, or nil.
func (e *Entity) Field(key string) *Field {
	for i := range e.Fields {
		if e.Fields[i].Key == key {
			return &e.Fields[i]
		}
	}
	return nil
}

// FormItem is one element of a form layout: a field, or a section (a titled group, shown as a
// collapsible panel or as a tab) with its own field items laid out in Columns columns.
type FormItem struct {
	Field       string     `json:"field,omitempty"`
	Section     Label      `json:"section,omitempty"`
	Items       []FormItem `json:"items,omitempty"`
	Label       Label      `json:"label,omitempty"`
	Placeholder Label      `json:"placeholder,omitempty"`
	Help        Label      `json:"help,omitempty"`
	Required    bool       `json:"required,omitempty"`
	Hidden      bool       `json:"hidden,omitempty"`
	Width       int        `json:"width,omitempty"` // grid span 1..24
	// Visible is an expression over the form values (record.<key>); the item (a field, or a
	// section with all its fields) is shown and its value kept only while it holds. A field that
	// is not visible is never required.
	Visible  string          `json:"visible,omitempty"`
	Default  json.RawMessage `json:"default,omitempty"`   // field: the initial value
	ReadOnly bool            `json:"read_only,omitempty"` // field: shown, not editable; the value is the default
	// Validation adds bounds to a field on this form (on top of the entity field's own).
	Validation *FormValidation `json:"validation,omitempty"`
	// Lookup, on a relation field of a public form, lists the fields of the linked entity that
	// anonymous visitors may see and search to pick a record (e.g. ["name"]); a relation field
	// without it cannot be published on a public form.
	Lookup []string `json:"lookup,omitempty"`
	// Section items only.
	Columns     int    `json:"columns,omitempty"`     // 1..3 columns (1 when unset)
	Collapsible bool   `json:"collapsible,omitempty"` // the title folds the section
	Collapsed   bool   `json:"collapsed,omitempty"`   // starts folded (collapsible sections)
	Display     string `json:"display,omitempty"`     // "" (panel) | "tab": consecutive tab sections show as tabs
}

// FormValidation bounds a field's value on a form: numbers by Min/Max, text by
// MinLength/MaxLength/Pattern (a Go/RE2 regular expression the whole value must match).
type FormValidation struct {
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	MinLength int      `json:"min_length,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
	Pattern   string   `json:"pattern,omitempty"`
	Message   Label    `json:"message,omitempty"` // shown instead of the generic message
}

// FormRule makes a field visible or required when an expression over the form values holds.
type FormRule struct {
	Field string `json:"field"`
	When  string `json:"when"`
	Then  string `json:"then"` // show | hide | require
}

// FormSuccess is what the submitter sees after a successful submit.
type FormSuccess struct {
	Message  Label  `json:"message,omitempty"`
	Redirect string `json:"redirect,omitempty"`
}

// Form is a data-entry form over an entity.
type Form struct {
	Slug      string          `json:"slug"`
	Entity    string          `json:"entity"`
	Title     Label           `json:"title,omitempty"`
	Public    bool            `json:"public,omitempty"`
	Layout    []FormItem      `json:"layout"`
	Rules     []FormRule      `json:"rules,omitempty"`
	Defaults  map[string]any  `json:"defaults,omitempty"`
	Hidden    []string        `json:"hidden,omitempty"` // query parameters captured into fields (utm_source, ...)
	Success   *FormSuccess    `json:"success,omitempty"`
	Consent   *Label          `json:"consent,omitempty"` // PIPL consent text; when set the submitter must accept
	RateLimit int             `json:"rate_limit,omitempty"`
	Extra     json.RawMessage `json:"extra,omitempty"`
}

// Trigger starts a flow.
type Trigger struct {
	Type   string   `json:"type"` // record.created, record.updated, record.deleted, stage.changed, record.activity, form.submitted, webhook, cron, manual, poll
	Entity string   `json:"entity,omitempty"`
	Form   string   `json:"form,omitempty"`
	Fields []string `json:"fields,omitempty"` // record.updated: only when one of these changed
	// Activities: record.activity fires only for these activity types (empty: every type).
	Activities []string        `json:"activities,omitempty"`
	Condition  string          `json:"condition,omitempty"`
	From       string          `json:"from,omitempty"` // stage.changed
	To         string          `json:"to,omitempty"`
	Key        string          `json:"key,omitempty"`  // webhook key
	Mode       string          `json:"mode,omitempty"` // webhook: async | sync
	Secret     string          `json:"secret,omitempty"`
	Schedule   string          `json:"schedule,omitempty"` // cron expression
	Timezone   string          `json:"timezone,omitempty"`
	Missed     string          `json:"missed,omitempty"` // cron missed-fire policy: skip | once
	Input      json.RawMessage `json:"input,omitempty"`  // manual: input schema
	// Poll triggers: a connector's polling trigger run every Interval with the app's credential.
	Connector   string          `json:"connector,omitempty"`
	PollTrigger string          `json:"trigger,omitempty"` // the connector's trigger id
	Credential  string          `json:"credential,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
	Interval    string          `json:"interval,omitempty"` // e.g. "5m"; 1m to 24h
}

// Bounds of a poll trigger's interval (spec.Trigger.Interval); an empty interval means
// DefaultPollInterval.
const (
	MinPollInterval     = time.Minute
	MaxPollInterval     = 24 * time.Hour
	DefaultPollInterval = 5 * time.Minute
)

// PollInterval parses a poll trigger's interval ("" is DefaultPollInterval).
func (t Trigger) PollInterval() (time.Duration, error) {
	if t.Interval == "" {
		return DefaultPollInterval, nil
	}
	return time.ParseDuration(t.Interval)
}

// Node is one step of a flow.
type Node struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Name   string          `json:"name,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Retry  *RetryPolicy    `json:"retry,omitempty"`
	// Position is the node's place on the builder canvas.
	Position *Position `json:"position,omitempty"`
}

// Position is a canvas coordinate.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// RetryPolicy says how often and how a failed node is retried.
type RetryPolicy struct {
	MaxAttempts int    `json:"max_attempts,omitempty"`
	Backoff     string `json:"backoff,omitempty"` // e.g. "10s"; doubles each attempt
}

// Edge connects an output port of one node to another node.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Port string `json:"port,omitempty"`
}

// Flow is an automation: a trigger and a graph of nodes.
type Flow struct {
	Slug     string  `json:"slug"`
	Label    Label   `json:"label,omitempty"`
	Trigger  Trigger `json:"trigger"`
	Nodes    []Node  `json:"nodes"`
	Edges    []Edge  `json:"edges,omitempty"`
	RunAs    string  `json:"run_as,omitempty"` // service | trigger_user
	Calendar string  `json:"calendar,omitempty"`
	// TestSample is the sample the builder pinned for test runs (the designer's test-run
	// dialog). It lives in the draft only: publishing leaves it out of the version and runs
	// never read it.
	TestSample *TestSample `json:"test_sample,omitempty"`
}

// TestSample is a pinned test-run sample: a record (record, stage and form triggers; Label is
// its name as shown when pinned) or a body (webhook and manual triggers).
type TestSample struct {
	Record string          `json:"record,omitempty"`
	Label  string          `json:"label,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// Dimension groups report rows.
type Dimension struct {
	Field  string `json:"field"`
	Bucket string `json:"bucket,omitempty"` // day, week, month, quarter, year (date fields)
	Label  Label  `json:"label,omitempty"`
}

// Measure aggregates report rows.
type Measure struct {
	Agg   string `json:"agg"` // count, count_distinct, sum, avg, min, max, median, rate
	Field string `json:"field,omitempty"`
	Label Label  `json:"label,omitempty"`
	// Filter restricts the rows this measure aggregates (record-list filter language); for
	// "rate" it is the condition whose share of the rows is answered in percent.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Key names the output column (default agg or agg_field).
	Key string `json:"key,omitempty"`
}

// Compare asks for a period-over-period comparison.
type Compare struct {
	Field  string `json:"field,omitempty"` // date field; created_at by default
	Period string `json:"period"`          // week, month, year
}

// Report is an analytic question over an entity.
type Report struct {
	Slug       string          `json:"slug"`
	Entity     string          `json:"entity"`
	Label      Label           `json:"label,omitempty"`
	Kind       string          `json:"kind"` // table, pivot, funnel, dwell, kpi, stagnation, penetration, forecast
	Dimensions []Dimension     `json:"dimensions,omitempty"`
	Measures   []Measure       `json:"measures,omitempty"`
	Filters    json.RawMessage `json:"filters,omitempty"`
	Sort       []string        `json:"sort,omitempty"`
	Limit      int             `json:"limit,omitempty"`
	Compare    *Compare        `json:"compare,omitempty"`
	Chart      json.RawMessage `json:"chart,omitempty"`
	Params     json.RawMessage `json:"params,omitempty"` // kind-specific: stage field, from/to, days, hours
}

// Widget places a report on a dashboard grid.
type Widget struct {
	ID     string          `json:"id,omitempty"`
	Report string          `json:"report"`
	X      int             `json:"x"`
	Y      int             `json:"y"`
	W      int             `json:"w"`
	H      int             `json:"h"`
	Title  Label           `json:"title,omitempty"`
	Chart  json.RawMessage `json:"chart,omitempty"`
}

// Dashboard is a grid of report widgets with shared filters.
type Dashboard struct {
	Slug    string          `json:"slug"`
	Label   Label           `json:"label,omitempty"`
	Widgets []Widget        `json:"widgets"`
	Filters json.RawMessage `json:"filters,omitempty"`
}

// FieldError is a problem at a JSON path of a definition or a record body.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors is a list of field errors; it is an error when non-empty.
type Errors []FieldError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Error()
	}
	return strings.Join(parts, "; ")
}

// Add appends an error.
func (e *Errors) Add(field, code, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// PrefixErrors puts prefix in front of the field path of every field error in err (an
// Errors); other errors get the prefix as context.
func PrefixErrors(err error, prefix string) error {
	var errs Errors
	if !errors.As(err, &errs) {
		return fmt.Errorf("%s %w", prefix, err)
	}
	out := make(Errors, len(errs))
	for i, e := range errs {
		e.Field = prefix + e.Field
		out[i] = e
	}
	return out
}

// Err returns e as an error, or nil when empty.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// strictUnmarshal decodes b into v, rejecting unknown fields and trailing data.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value (JSON 值之后有多余内容)")
	}
	return nil
}

// Decode strictly decodes a definition of kind from b. Unknown keys, wrong types and trailing
// data are reported as field errors with the JSON path.
func Decode(kind string, b []byte) (any, error) {
	var v any
	switch kind {
	case KindEntity:
		v = &Entity{}
	case KindForm:
		v = &Form{}
	case KindFlow:
		v = &Flow{}
	case KindReport:
		v = &Report{}
	case KindDashboard:
		v = &Dashboard{}
	default:
		return nil, Errors{{Field: "kind", Code: "unknown_kind", Message: fmt.Sprintf("unknown definition kind %[1]q (未知的定义类型 %[1]q)", kind)}}
	}
	if err := strictUnmarshal(b, v); err != nil {
		return nil, decodeErrorAt(err, b, v)
	}
	return v, nil
}

// DecodeInto strictly decodes b into v (any definition type).
func DecodeInto(b []byte, v any) error {
	if err := strictUnmarshal(b, v); err != nil {
		return decodeErrorAt(err, b, v)
	}
	return nil
}

// decodeErrorAt is decodeError with unknown keys reported at their full JSON path.
func decodeErrorAt(err error, b []byte, v any) error {
	out := decodeError(err)
	if errs, ok := out.(Errors); ok && len(errs) == 1 && errs[0].Code == "unknown_field" {
		if p := unknownKeyPath(b, reflect.TypeOf(v)); p != "" {
			errs[0].Field = p
			errs[0].Message = fmt.Sprintf("unknown field %[1]q (未知字段 %[1]q)", p)
		}
	}
	return out
}

func decodeError(err error) error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &ute):
		path := ute.Field
		if path == "" {
			path = "$"
		}
		return Errors{{Field: path, Code: "invalid_type", Message: typeErrorMessage(ute)}}
	case errors.As(err, &se):
		return Errors{{Field: "$", Code: "invalid_json", Message: fmt.Sprintf("invalid JSON at byte %d: %v (JSON 格式错误)", se.Offset, se)}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Errors{{Field: name, Code: "unknown_field", Message: fmt.Sprintf("unknown field %[1]q (未知字段 %[1]q)", name)}}
	default:
		return Errors{{Field: "$", Code: "invalid_json", Message: err.Error()}}
	}
}
