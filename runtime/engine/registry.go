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
	Help     string     `json:"help,omitempty"`
	Enum     []string   `json:"enum,omitempty"`
}

// NodeType is a registered node: its name, parameter spec, output ports and constructor.
type NodeType struct {
	Name     string      `json:"type"`
	Label    spec.Label  `json:"label"`
	Category string      `json:"category"`
	Params   []ParamSpec `json:"params"`
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
