// Package templates ships the built-in app templates (bundles installable in one call).
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tessera/tessera/builder/spec"
)

//go:embed *.json
var files embed.FS

// Template describes one built-in template.
type Template struct {
	Name        string     `json:"name"`
	Label       spec.Label `json:"label"`
	Description spec.Label `json:"description"`
	Entities    int        `json:"entities"`
	Forms       int        `json:"forms"`
	Flows       int        `json:"flows"`
	Reports     int        `json:"reports"`
	Dashboards  int        `json:"dashboards"`
}

var descriptions = map[string]spec.Label{
	"sales": {"en": "Lead capture and cleaning, scoring, assignment with SLAs, a pipeline with stage gates, quotes and approvals, customer tiers and sales analytics.",
		"zh-CN": "线索捕获与清洗、评分培育、分配与SLA跟进、阶段强控的销售管道、报价与审批、客户分层以及销售数据分析。"},
}

// Bundle returns the raw bundle JSON of template name.
func Bundle(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/\\.") {
		return nil, fmt.Errorf("template %q: not found", name)
	}
	b, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("template %q: not found", name)
	}
	return b, nil
}

// List describes every built-in template.
func List() ([]Template, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	out := []Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		raw, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		var b struct {
			App struct {
				Label spec.Label `json:"label"`
			} `json:"app"`
			Entities, Forms, Flows, Reports, Dashboards []json.RawMessage
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out = append(out, Template{Name: name, Label: b.App.Label, Description: descriptions[name],
			Entities: len(b.Entities), Forms: len(b.Forms), Flows: len(b.Flows), Reports: len(b.Reports), Dashboards: len(b.Dashboards)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
