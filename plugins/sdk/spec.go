// Package sdk is the only package connector authors import: it defines a connector's spec
// (credential fields, operations, typed parameters, output shape), the Env the host injects
// (guarded HTTP client, decrypted credentials, clock, logger), optional capabilities
// (Tester, OptionsProvider, Poller), parameter validation and the connector registry.
//
// It uses only the standard library. One spec drives validation at flow publish and at run,
// the builder's property form (GET /api/v1/catalog) and the generated docs.
package sdk

import (
	"context"
	"log/slog"
)

// Text is a user-facing string in English and Simplified Chinese. JSON: {"en","zh-CN"}.
type Text struct {
	En   string `json:"en"`
	ZhCN string `json:"zh-CN,omitempty"`
}

// T builds a Text from its English and Chinese forms.
func T(en, zh string) Text { return Text{En: en, ZhCN: zh} }

// IsZero reports whether both languages are empty.
func (t Text) IsZero() bool { return t.En == "" && t.ZhCN == "" }

// ParamType is the type of a parameter or credential field.
type ParamType string

// Parameter types. TypeText is multi-line text; TypeSecret is a masked string that is never
// logged or echoed; TypeJSON accepts any JSON value (or a string holding JSON).
const (
	TypeString  ParamType = "string"
	TypeNumber  ParamType = "number"
	TypeBoolean ParamType = "boolean"
	TypeJSON    ParamType = "json"
	TypeSelect  ParamType = "select"
	TypeSecret  ParamType = "secret"
	TypeText    ParamType = "text"
)

// Valid reports whether t is a known parameter type.
func (t ParamType) Valid() bool {
	switch t {
	case TypeString, TypeNumber, TypeBoolean, TypeJSON, TypeSelect, TypeSecret, TypeText:
		return true
	}
	return false
}

// Option is one choice of a select parameter.
type Option struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
}

// Param describes one operation parameter, trigger parameter or credential field.
type Param struct {
	// Key is the stable identifier of the parameter inside its operation.
	Key   string    `json:"key"`
	Type  ParamType `json:"type"`
	Label Text      `json:"label"`
	// Help is shown under the field in the property form.
	Help Text `json:"help,omitempty"`
	// Placeholder is an example value shown in an empty field.
	Placeholder string `json:"placeholder,omitempty"`
	// Required parameters must be present (and non-empty) when visible.
	Required bool `json:"required,omitempty"`
	// Secret values are masked in the UI and never logged; TypeSecret implies it.
	Secret bool `json:"secret,omitempty"`
	// Default is applied when the parameter is absent.
	Default any `json:"default,omitempty"`
	// Options lists the choices of a select parameter.
	Options []Option `json:"options,omitempty"`
	// DynamicOptions says the choices come from the connector's OptionsProvider at edit time;
	// any string is then accepted by validation.
	DynamicOptions bool `json:"dynamic_options,omitempty"`
	// ShowIf shows the parameter only when every listed parameter has one of the listed
	// values, e.g. {"auth": ["basic", "bearer"]} (n8n's displayOptions.show). Hidden
	// parameters are not required and not validated.
	ShowIf map[string][]any `json:"show_if,omitempty"`
	// Min and Max bound number parameters when set.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// IsSecret reports whether the parameter's value must be masked.
func (p Param) IsSecret() bool { return p.Secret || p.Type == TypeSecret }

// OutputField describes one top-level key of an operation's output object, so the builder
// can offer `steps.<node>.<key>` in expressions.
type OutputField struct {
	Key   string `json:"key"`
	Type  string `json:"type"` // string, number, boolean, object, array, file
	Label Text   `json:"label"`
}

// RunFunc executes an operation with validated, defaulted parameters.
type RunFunc func(ctx context.Context, env Env, params map[string]any) (any, error)

// Operation is one action a connector offers as a flow node.
type Operation struct {
	// ID is stable: flows store "<connector>.<operation>" and it must survive renames.
	ID          string        `json:"id"`
	Label       Text          `json:"label"`
	Description Text          `json:"description,omitempty"`
	Params      []Param       `json:"params"`
	Output      []OutputField `json:"output,omitempty"`
	// Run executes the operation. Call it through Invoke (or Prepare first) so parameters
	// are validated and defaulted.
	Run RunFunc `json:"-"`
}

// Validate checks values against the operation's parameters (see ValidateParams).
func (op Operation) Validate(values map[string]any) []FieldError {
	return ValidateParams(op.Params, values)
}

// Trigger is a polling trigger a connector offers (see Poller).
type Trigger struct {
	ID          string        `json:"id"`
	Label       Text          `json:"label"`
	Description Text          `json:"description,omitempty"`
	Params      []Param       `json:"params"`
	Output      []OutputField `json:"output,omitempty"`
}

// Spec is the JSON-serialisable description of a connector.
type Spec struct {
	// ID is the stable connector identifier ("http", "dingtalk"); lower-case letters,
	// digits, '-' and '_'.
	ID          string `json:"id"`
	Version     string `json:"version"`
	Label       Text   `json:"label"`
	Description Text   `json:"description,omitempty"`
	// Category groups connectors in the builder palette (e.g. "messaging", "http", "documents").
	Category string `json:"category,omitempty"`
	// Icon is a short icon name or a data: URL.
	Icon string `json:"icon,omitempty"`
	// Credentials are the fields of a saved credential of this connector; none when empty.
	Credentials []Param     `json:"credentials,omitempty"`
	Operations  []Operation `json:"operations"`
	Triggers    []Trigger   `json:"triggers,omitempty"`
	// Capabilities is filled by the registry: "test", "options", "poll".
	Capabilities []string `json:"capabilities,omitempty"`
	// Source is filled by the registry's owner: "builtin" or "plugin".
	Source string `json:"source,omitempty"`
}

// Operation returns the operation with the given id.
func (s Spec) Operation(id string) (Operation, bool) {
	for _, op := range s.Operations {
		if op.ID == id {
			return op, true
		}
	}
	return Operation{}, false
}

// Trigger returns the trigger with the given id.
func (s Spec) Trigger(id string) (Trigger, bool) {
	for _, tr := range s.Triggers {
		if tr.ID == id {
			return tr, true
		}
	}
	return Trigger{}, false
}

// ValidateCredentials checks credential values against the spec's credential fields.
func (s Spec) ValidateCredentials(values map[string]any) []FieldError {
	return ValidateParams(s.Credentials, values)
}

// Connector is what a connector package registers. Spec must be cheap and return the same
// value every time. A connector may also implement Tester, OptionsProvider and Poller.
type Connector interface {
	Spec() Spec
}

// Tester checks that env.Credentials can reach the service ("Test connection").
type Tester interface {
	Test(ctx context.Context, env Env) error
}

// CredentialChecker checks a credential's values beyond their declared types when it is
// saved (a webhook URL's scheme, a signing key's format, an address), so a mistake is a 422
// on the field instead of a failed run later. values were prepared (defaults applied,
// hidden fields dropped, numbers and booleans coerced); errors name the field's key.
type CredentialChecker interface {
	CheckCredentials(values map[string]any) []FieldError
}

// OptionsProvider lists the choices of a parameter marked DynamicOptions while the analyst
// edits a node; params holds the values entered so far.
type OptionsProvider interface {
	Options(ctx context.Context, env Env, operation, param string, params map[string]any) ([]Option, error)
}

// Poller implements the spec's polling triggers. The host calls Poll on a schedule with the
// state returned by the previous call (nil the first time) and starts one run per item, with
// the item as the run's trigger.item. The runs and the new state are saved together, so a
// failed or lost poll is simply repeated with the old state: Poll must not advance anything
// remote (no "mark as read"), only return the next state. A trigger that sees a feed for the
// first time usually remembers what is there and returns no items, so publishing a flow does
// not replay history. Return at most a few hundred items and page with the state; return an
// error (sdk.Temporary or sdk.Permanent) when the service fails: the host records it on the
// flow and polls again later with the same state.
type Poller interface {
	Poll(ctx context.Context, env Env, trigger string, params map[string]any, state []byte) (PollResult, error)
}

// PollResult is the answer of one poll.
type PollResult struct {
	// Items become trigger payloads, oldest first.
	Items []any
	// State is stored by the host and passed to the next Poll.
	State []byte
	// IDs optionally holds each item's unique id (same length as Items). The host starts at
	// most one run per id and flow, ever; without IDs an item object's "id" key is used, and
	// items without an id are started as they come.
	IDs []string
}

// Define wraps a spec as a Connector with no optional capabilities.
func Define(s Spec) Connector { return defined(s) }

type defined Spec

func (d defined) Spec() Spec { return Spec(d) }

// discardLogger is used when the host gave no logger.
var discardLogger = slog.New(slog.DiscardHandler)
