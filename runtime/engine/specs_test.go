package engine

import "testing"

// Every core node type and parameter carries an en and zh-CN label (the builder shows them),
// palette names are unique per language, and widget hints name known widgets.
func TestNodeSpecsAreLabelled(t *testing.T) {
	known := map[string]bool{"": true, WidgetEntity: true, WidgetFieldValues: true, WidgetCondition: true, WidgetPeople: true, WidgetPerson: true,
		WidgetApprovalLevels: true, WidgetApprovalRoutes: true, WidgetDuration: true, WidgetCalendar: true, WidgetCron: true, WidgetWebhook: true,
		WidgetRecord: true, WidgetExpression: true, WidgetCode: true, WidgetReport: true, WidgetFlow: true, WidgetFilter: true, WidgetCases: true, WidgetAssignRules: true, WidgetList: true}
	seen := map[string]string{}
	for _, n := range NodeTypes() {
		if _, core := nodeDescriptions[n.Name]; !core {
			continue // node types registered by tests
		}
		for _, lang := range []string{"en", "zh-CN"} {
			name := n.Label[lang]
			if name == "" {
				t.Errorf("node %s has no %s label", n.Name, lang)
			}
			if other, dup := seen[lang+name]; dup {
				t.Errorf("nodes %s and %s are both called %q", other, n.Name, name)
			}
			seen[lang+name] = n.Name
			if n.Description[lang] == "" {
				t.Errorf("node %s has no %s description", n.Name, lang)
			}
		}
		if len(n.Params) == 0 {
			t.Errorf("node %s has no parameter spec", n.Name)
		}
		for _, p := range n.Params {
			if p.Label["en"] == "" || p.Label["zh-CN"] == "" {
				t.Errorf("%s.%s: label needs en and zh-CN", n.Name, p.Key)
			}
			if len(p.Help) > 0 && (p.Help["en"] == "" || p.Help["zh-CN"] == "") {
				t.Errorf("%s.%s: help needs en and zh-CN", n.Name, p.Key)
			}
			if !known[p.Widget] {
				t.Errorf("%s.%s: unknown widget %q", n.Name, p.Key, p.Widget)
			}
			if len(p.Options) > 0 && len(p.Options) != len(p.Enum) {
				t.Errorf("%s.%s: %d options for %d enum values", n.Name, p.Key, len(p.Options), len(p.Enum))
			}
		}
	}
}
