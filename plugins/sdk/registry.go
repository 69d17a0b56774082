package sdk

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// Registry holds connectors by ID. The package-level functions use the default registry,
// which built-in connectors fill from their init functions.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Connector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Connector{}} }

var defaultRegistry = NewRegistry()

// Default returns the process-wide registry.
func Default() *Registry { return defaultRegistry }

// Clone returns a new registry holding the same connectors (a server adds its plugins to a
// clone of the built-ins).
func (r *Registry) Clone() *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := NewRegistry()
	for id, conn := range r.m {
		c.m[id] = conn
	}
	return c
}

// Register adds c to the default registry and panics when its spec is invalid or its ID is
// taken: call it from a connector package's init function.
func Register(c Connector) {
	if err := defaultRegistry.Add(c); err != nil {
		panic(err)
	}
}

// All returns the default registry's connectors sorted by ID.
func All() []Connector { return defaultRegistry.All() }

// Get returns the default registry's connector with the given ID.
func Get(id string) (Connector, bool) { return defaultRegistry.Get(id) }

// Add checks c's spec and adds it; it fails when the ID is already registered.
func (r *Registry) Add(c Connector) error {
	s := c.Spec()
	if err := CheckSpec(s); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[s.ID]; dup {
		return fmt.Errorf("registering connector %q: the id is already registered", s.ID)
	}
	r.m[s.ID] = c
	return nil
}

// Remove deletes the connector with the given ID (used when a plugin is reloaded).
func (r *Registry) Remove(id string) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

// Get returns the connector with the given ID.
func (r *Registry) Get(id string) (Connector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.m[id]
	return c, ok
}

// All returns the connectors sorted by ID.
func (r *Registry) All() []Connector {
	r.mu.RLock()
	out := make([]Connector, 0, len(r.m))
	for _, c := range r.m {
		out = append(out, c)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Spec().ID < out[j].Spec().ID })
	return out
}

// Describe returns c's spec with Capabilities filled from the interfaces it implements.
func Describe(c Connector) Spec {
	s := c.Spec()
	s.Capabilities = nil
	if _, ok := c.(Tester); ok {
		s.Capabilities = append(s.Capabilities, "test")
	}
	if _, ok := c.(OptionsProvider); ok {
		s.Capabilities = append(s.Capabilities, "options")
	}
	if _, ok := c.(Poller); ok {
		s.Capabilities = append(s.Capabilities, "poll")
	}
	if s.Source == "" {
		s.Source = "builtin"
	}
	return s
}

// Catalog returns every connector's described spec, sorted by ID: the JSON the builder uses.
func (r *Registry) Catalog() []Spec {
	all := r.All()
	out := make([]Spec, len(all))
	for i, c := range all {
		out[i] = Describe(c)
	}
	return out
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// CheckSpec reports the first structural problem of a spec: ids, unique keys, known types,
// select options, show_if references, and a Run function on every operation.
func CheckSpec(s Spec) error {
	if !idPattern.MatchString(s.ID) {
		return fmt.Errorf("connector id %q: use lower-case letters, digits, '-' or '_'", s.ID)
	}
	if s.Version == "" {
		return fmt.Errorf("connector %s: version is required", s.ID)
	}
	if s.Label.En == "" {
		return fmt.Errorf("connector %s: label.en is required", s.ID)
	}
	if err := checkTexts(s); err != nil {
		return err
	}
	if err := checkParams(s.ID+" credentials", s.Credentials); err != nil {
		return err
	}
	if len(s.Operations) == 0 && len(s.Triggers) == 0 {
		return fmt.Errorf("connector %s: it has no operations", s.ID)
	}
	seen := map[string]bool{}
	for _, op := range s.Operations {
		where := s.ID + "." + op.ID
		if !idPattern.MatchString(op.ID) {
			return fmt.Errorf("operation %q: use lower-case letters, digits, '-' or '_'", where)
		}
		if seen[op.ID] {
			return fmt.Errorf("operation %s: duplicate id", where)
		}
		seen[op.ID] = true
		if op.Run == nil {
			return fmt.Errorf("operation %s: Run is nil", where)
		}
		if err := checkParams(where, op.Params); err != nil {
			return err
		}
	}
	seen = map[string]bool{}
	for _, tr := range s.Triggers {
		where := s.ID + " trigger " + tr.ID
		if !idPattern.MatchString(tr.ID) || seen[tr.ID] {
			return fmt.Errorf("%s: invalid or duplicate id", where)
		}
		seen[tr.ID] = true
		if err := checkParams(where, tr.Params); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses a user-facing text given in one language only: every text shown to users
// has en and zh-CN (a JavaScript plugin's manifest with {"en": ...} alone is refused and
// listed under plugin_problems).
func checkText(where string, t Text) error {
	switch {
	case t.En != "" && t.ZhCN == "":
		return fmt.Errorf("%s: zh-CN text missing for %q (every user-facing text needs en and zh-CN)", where, t.En)
	case t.ZhCN != "" && t.En == "":
		return fmt.Errorf("%s: en text missing for %q (every user-facing text needs en and zh-CN)", where, t.ZhCN)
	}
	return nil
}

// checkTexts applies checkText to every label, description and help text of s.
func checkTexts(s Spec) error {
	type item struct {
		where string
		t     Text
	}
	items := []item{{s.ID + " label", s.Label}, {s.ID + " description", s.Description}}
	params := func(where string, defs []Param) {
		for _, p := range defs {
			// Option labels are often language-neutral codes ("GET", "OK"): not checked.
			items = append(items, item{where + " parameter " + p.Key + " label", p.Label}, item{where + " parameter " + p.Key + " help", p.Help})
		}
	}
	outputs := func(where string, out []OutputField) {
		for _, o := range out {
			items = append(items, item{where + " output " + o.Key, o.Label})
		}
	}
	params(s.ID+" credentials", s.Credentials)
	for _, op := range s.Operations {
		where := s.ID + "." + op.ID
		items = append(items, item{where + " label", op.Label}, item{where + " description", op.Description})
		params(where, op.Params)
		outputs(where, op.Output)
	}
	for _, tr := range s.Triggers {
		where := s.ID + " trigger " + tr.ID
		items = append(items, item{where + " label", tr.Label}, item{where + " description", tr.Description})
		params(where, tr.Params)
		outputs(where, tr.Output)
	}
	for _, it := range items {
		if err := checkText(it.where, it.t); err != nil {
			return err
		}
	}
	return nil
}

func checkParams(where string, defs []Param) error {
	keys := map[string]bool{}
	for _, p := range defs {
		if !keyPattern.MatchString(p.Key) {
			return fmt.Errorf("%s: parameter key %q is not an identifier", where, p.Key)
		}
		if keys[p.Key] {
			return fmt.Errorf("%s: duplicate parameter %q", where, p.Key)
		}
		keys[p.Key] = true
		if !p.Type.Valid() {
			return fmt.Errorf("%s: parameter %q has unknown type %q", where, p.Key, p.Type)
		}
		if p.Type == TypeSelect && len(p.Options) == 0 && !p.DynamicOptions {
			return fmt.Errorf("%s: select parameter %q has no options", where, p.Key)
		}
		if p.Default != nil {
			if _, fe := coerce(p, p.Default); fe != nil {
				return fmt.Errorf("%s: default of %q %s", where, p.Key, fe.Message)
			}
		}
	}
	for _, p := range defs {
		for k := range p.ShowIf {
			if !keys[k] || k == p.Key {
				return fmt.Errorf("%s: parameter %q show_if refers to unknown parameter %q", where, p.Key, k)
			}
		}
	}
	return nil
}

// Invoke validates params against the operation's spec (after templates were rendered),
// applies defaults and runs it. Validation failures are returned as FieldErrors (permanent).
func Invoke(ctx context.Context, c Connector, operation string, env Env, params map[string]any) (any, error) {
	s := c.Spec()
	op, ok := s.Operation(operation)
	if !ok {
		return nil, Permanent(fmt.Errorf("connector %s has no operation %q", s.ID, operation))
	}
	prepared, errs := Prepare(op.Params, params)
	if len(errs) > 0 {
		return nil, FieldErrors(errs)
	}
	out, err := op.Run(ctx, env, prepared)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", s.ID, operation, err)
	}
	return out, nil
}
