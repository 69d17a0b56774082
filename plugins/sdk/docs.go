package sdk

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Markdown renders reference docs for connectors from their specs (the same specs that drive
// validation and the builder's forms), in English with the Chinese labels alongside.
func Markdown(specs []Spec) string {
	specs = append([]Spec(nil), specs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].ID < specs[j].ID })
	var b strings.Builder
	b.WriteString("# Connector reference\n\nGenerated from the connector specs (`go test ./plugins/all -update`); do not edit.\n\n")
	b.WriteString("| id | connector | version | operations | polling triggers | capabilities |\n|---|---|---|---|---|---|\n")
	for _, s := range specs {
		var ops, trs []string
		for _, op := range s.Operations {
			ops = append(ops, "`"+op.ID+"`")
		}
		for _, tr := range s.Triggers {
			trs = append(trs, "`"+tr.ID+"`")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", s.ID, label(s.Label), s.Version, strings.Join(ops, ", "), strings.Join(trs, ", "), strings.Join(s.Capabilities, ", "))
	}
	for _, s := range specs {
		fmt.Fprintf(&b, "\n## %s (`%s`)\n\n", label(s.Label), s.ID)
		if d := label(s.Description); d != "" {
			b.WriteString(d + "\n\n")
		}
		if len(s.Credentials) > 0 {
			b.WriteString("**Credential fields**\n\n")
			paramTable(&b, s.Credentials)
		}
		for _, op := range s.Operations {
			fmt.Fprintf(&b, "### `%s.%s` — %s\n\n", s.ID, op.ID, label(op.Label))
			if d := label(op.Description); d != "" {
				b.WriteString(d + "\n\n")
			}
			paramTable(&b, op.Params)
			if len(op.Output) > 0 {
				b.WriteString("Output: ")
				var outs []string
				for _, o := range op.Output {
					outs = append(outs, fmt.Sprintf("`%s` (%s, %s)", o.Key, o.Type, label(o.Label)))
				}
				b.WriteString(strings.Join(outs, ", ") + "\n\n")
			}
		}
		for _, tr := range s.Triggers {
			fmt.Fprintf(&b, "### Polling trigger `%s` / `%s` — %s\n\n", s.ID, tr.ID, label(tr.Label))
			fmt.Fprintf(&b, "Flow trigger: `{\"type\": \"poll\", \"connector\": \"%s\", \"trigger\": \"%s\", \"params\": {...}, \"interval\": \"5m\"}`; each new item starts a run as `trigger.item`.\n\n", s.ID, tr.ID)
			if d := label(tr.Description); d != "" {
				b.WriteString(d + "\n\n")
			}
			paramTable(&b, tr.Params)
		}
	}
	return b.String()
}

func label(t Text) string {
	switch {
	case t.En != "" && t.ZhCN != "" && t.En != t.ZhCN:
		return t.En + " / " + t.ZhCN
	case t.En != "":
		return t.En
	}
	return t.ZhCN
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func paramTable(b *strings.Builder, ps []Param) {
	if len(ps) == 0 {
		b.WriteString("No parameters.\n\n")
		return
	}
	b.WriteString("| key | type | required | default | label | notes |\n|---|---|---|---|---|---|\n")
	for _, p := range ps {
		var notes []string
		if len(p.Options) > 0 {
			var vals []string
			for _, o := range p.Options {
				vals = append(vals, "`"+o.Value+"`")
			}
			notes = append(notes, "one of "+strings.Join(vals, ", "))
		}
		if p.DynamicOptions {
			notes = append(notes, "dynamic options")
		}
		if len(p.ShowIf) > 0 {
			keys := make([]string, 0, len(p.ShowIf))
			for k := range p.ShowIf {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var conds []string
			for _, k := range keys {
				vs := make([]string, len(p.ShowIf[k]))
				for i, v := range p.ShowIf[k] {
					vs[i] = fmt.Sprint(v)
				}
				conds = append(conds, k+" ∈ {"+strings.Join(vs, ", ")+"}")
			}
			notes = append(notes, "shown when "+strings.Join(conds, " and "))
		}
		if p.IsSecret() {
			notes = append(notes, "secret")
		}
		if p.Min != nil {
			notes = append(notes, fmt.Sprintf("min %g", *p.Min))
		}
		if p.Max != nil {
			notes = append(notes, fmt.Sprintf("max %g", *p.Max))
		}
		if h := label(p.Help); h != "" {
			notes = append(notes, h)
		}
		def := ""
		if p.Default != nil {
			j, _ := json.Marshal(p.Default)
			def = "`" + string(j) + "`"
		}
		req := ""
		if p.Required {
			req = "yes"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s |\n", p.Key, p.Type, req, cell(def), cell(label(p.Label)), cell(strings.Join(notes, "; ")))
	}
	b.WriteString("\n")
}
