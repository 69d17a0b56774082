package engine

import (
	"sort"
	"sync"

	"github.com/tessera/tessera/builder/spec"
)

// ParamSpec describes one parameter of a node type (for validation docs and the builder's
// property form).
type ParamSpec struct {
	Key      string     `json:"key"`
	Type     string     `json:"type"` // string, expr, template, object, array, number, duration, boolean, any
	Required bool       `json:"required,omitempty"`
	Label    spec.Label `json:"label,omitempty"`
	Help     spec.Label `json:"help,omitempty"`
	Enum     []string   `json:"enum,omitempty"`
	// Options label the Enum values for the builder (same order).
	Options []ParamOption `json:"options,omitempty"`
	// Widget tells the builder which editor to show (see Widget* constants); empty: by Type.
	Widget string `json:"x-widget,omitempty"`
	// EntityParam names the sibling parameter holding the entity whose fields a
	// field-values, condition or record widget offers (default "entity"; trigger: the
	// trigger's entity).
	EntityParam string `json:"x-entity-param,omitempty"`
	// Default is the value the builder pre-fills for a new node.
	Default any `json:"default,omitempty"`
}

// ParamOption is one labelled choice of an enumerated parameter.
type ParamOption struct {
	Value string     `json:"value"`
	Label spec.Label `json:"label"`
}

// Builder widgets a parameter may ask for (ParamSpec.Widget).
const (
	WidgetEntity         = "entity"          // an entity of the app
	WidgetFieldValues    = "field-values"    // {field: value} for the entity in EntityParam
	WidgetCondition      = "condition"       // an expr boolean expression (rows or text)
	WidgetPeople         = "people"          // user id, role:, manager:, email:, starter, or a list
	WidgetPerson         = "person"          // one of the above that resolves to one user
	WidgetApprovalLevels = "approval-levels" // [{name, assignees, mode}]
	WidgetApprovalRoutes = "approval-routes" // [{when, levels}]
	WidgetDuration       = "duration"        // 90m, 2h, 3d
	WidgetCalendar       = "calendar"        // wall | business
	WidgetCron           = "cron"            // a cron schedule
	WidgetWebhook        = "webhook"         // a webhook key with URL, secret and sample
	WidgetRecord         = "record"          // a record id (default the trigger's record)
	WidgetExpression     = "expression"      // an expr expression or a {{ }} template
	WidgetCode           = "code"            // a JavaScript function body
	WidgetReport         = "report"          // a report of the app
	WidgetFlow           = "flow"            // another flow of the app
	WidgetFilter         = "filter"          // a record-list filter
	WidgetCases          = "switch-cases"    // [{port, when|equals}]
	WidgetAssignRules    = "assign-rules"    // [{when, user|team}]
	WidgetList           = "list"            // a list from an upstream step (or an expression)
)

// L is a label in English and Simplified Chinese.
func L(en, zh string) spec.Label { return spec.Label{"en": en, "zh-CN": zh} }

// opts labels enum values: opts("any", L(...), "all", L(...)).
func opts(pairs ...any) ([]string, []ParamOption) {
	var vals []string
	var out []ParamOption
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i].(string)
		vals = append(vals, v)
		out = append(out, ParamOption{Value: v, Label: pairs[i+1].(spec.Label)})
	}
	return vals, out
}

// NodeType is a registered node: its name, parameter spec, output ports and constructor.
type NodeType struct {
	Name     string     `json:"type"`
	Label    spec.Label `json:"label"`
	Category string     `json:"category"`
	// Description is the help the builder shows for the node (from nodeDescriptions).
	Description spec.Label  `json:"description,omitempty"`
	Params      []ParamSpec `json:"params"`
	// Ports are the named outputs; empty means one unnamed output. DynamicPorts means the
	// ports come from the params (switch cases).
	Ports        []string `json:"ports,omitempty"`
	DynamicPorts bool     `json:"dynamic_ports,omitempty"`
	// Waits marks nodes that may park the run (delay, wait_event, task, approval, subflow).
	Waits bool `json:"waits,omitempty"`
	// New prepares a node from its params; errors name their params path via p.
	New func(p *Params) (Runner, spec.Errors) `json:"-"`
}

var (
	regMu    sync.RWMutex
	registry = map[string]NodeType{}
)

// Register adds a node type; registering a name twice replaces the earlier one.
func Register(t NodeType) {
	regMu.Lock()
	defer regMu.Unlock()
	if t.Description == nil {
		t.Description = nodeDescriptions[t.Name]
	}
	registry[t.Name] = t
}

// NodeTypes returns every registered node type sorted by name (the catalog's node list).
func NodeTypes() []NodeType {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]NodeType, 0, len(registry))
	for _, t := range registry {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func lookup(name string) (NodeType, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	t, ok := registry[name]
	return t, ok
}
