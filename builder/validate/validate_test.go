package validate_test

import (
	"strings"
	"testing"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/validate"
)

type lookup map[string]*spec.Entity

func (l lookup) Entity(slug string) *spec.Entity { return l[slug] }
func (l lookup) Report(slug string) bool         { return slug == "r1" }
func (l lookup) Flow(slug string) bool           { return false }
func (l lookup) Defined(kind, slug string) bool  { return kind == spec.KindFlow && slug == "draft-flow" }

func decode(t *testing.T, kind, body string) any {
	t.Helper()
	v, err := spec.Decode(kind, []byte(body))
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestDefinitions(t *testing.T) {
	lead := decode(t, spec.KindEntity, `{"slug":"lead","fields":[{"key":"name","type":"text"},{"key":"stage","type":"select","options":["a","b"]}],"stages":{"field":"stage","order":["a","b"]}}`).(*spec.Entity)
	lk := lookup{"lead": lead}
	cases := []struct {
		name, kind, body string
		wantField        string // "" = valid
	}{
		{"valid entity", spec.KindEntity, `{"slug":"lead","fields":[{"key":"name","type":"text"}]}`, ""},
		{"bad slug", spec.KindEntity, `{"slug":"Lead","fields":[{"key":"name","type":"text"}]}`, "slug"},
		{"no fields", spec.KindEntity, `{"slug":"lead","fields":[]}`, "fields"},
		{"bad field type", spec.KindEntity, `{"slug":"lead","fields":[{"key":"a","type":"blob"}]}`, "fields[0].type"},
		{"duplicate key", spec.KindEntity, `{"slug":"lead","fields":[{"key":"a","type":"text"},{"key":"a","type":"text"}]}`, "fields[1].key"},
		{"reserved key", spec.KindEntity, `{"slug":"lead","fields":[{"key":"owner_id","type":"text"}]}`, "fields[0].key"},
		{"select without options", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select"}]}`, "fields[0].options"},
		{"stage field not select", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"text"}],"stages":{"field":"s","order":["x"]}}`, "stages.field"},
		{"stage not an option", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select","options":["a"]}],"stages":{"field":"s","order":["a","z"]}}`, "stages.order[1]"},
		{"gate with bad expr", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select","options":["a","b"]}],"stages":{"field":"s","order":["a","b"],"transitions":[{"from":"a","to":"b","require":"any(("}]}}`, "stages.transitions[0].require"},
		{"gate unknown stage", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select","options":["a","b"]}],"stages":{"field":"s","order":["a","b"],"transitions":[{"from":"a","to":"c"}]}}`, "stages.transitions[0].to"},
		{"dedupe unknown field", spec.KindEntity, `{"slug":"lead","fields":[{"key":"a","type":"text"}],"dedupe":{"keys":[["phone"]]}}`, "dedupe.keys[0][0]"},
		{"number default not a number", spec.KindEntity, `{"slug":"lead","fields":[{"key":"a","type":"number","default":"abc"}]}`, "fields[0].default"},
		{"select default not an option", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select","options":["a"],"default":"z"}]}`, "fields[0].default"},
		{"good defaults", spec.KindEntity, `{"slug":"lead","fields":[{"key":"s","type":"select","options":["a"],"default":"a"},{"key":"n","type":"number","default":0},{"key":"m","type":"multiselect","options":["x"],"default":["x"]}]}`, ""},
		{"bad formula", spec.KindEntity, `{"slug":"lead","fields":[{"key":"f","type":"formula","formula":"1 +"}]}`, "fields[0].formula"},
		{"valid form", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name"}]}`, ""},
		{"form unknown entity", spec.KindForm, `{"slug":"f","entity":"deal","layout":[{"field":"name"}]}`, "entity"},
		{"form unknown field in section", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","items":[{"field":"x"}]}]}`, "layout[0].items[0].field"},
		{"form default outside the entity is accepted", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name"}],"defaults":{"source":"web"}}`, ""},
		{"form section with columns, visibility, validation", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","validation":{"min_length":2,"pattern":"^[A-Z]"}},{"section":{"zh-CN":"联系","en":"Contact"},"columns":2,"collapsible":true,"visible":"record.name == \"x\"","items":[{"field":"stage","default":"a","visible":"!isEmpty(record.name)"}]}]}`, ""},
		{"form empty titled section", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name"},{"section":"Later"}]}`, ""},
		{"form untitled empty section", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name"},{"columns":2}]}`, "layout[1]"},
		{"form only sections without fields", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A"}]}`, "layout"},
		{"form section columns out of range", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","columns":4,"items":[{"field":"name"}]}]}`, "layout[0].columns"},
		{"form nested section", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","items":[{"field":"name"},{"section":"B","items":[{"field":"stage"}]}]}]}`, "layout[0].items[1]"},
		{"form section with a field's setting", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","required":true,"items":[{"field":"name"}]}]}`, "layout[0]"},
		{"form field with a section's setting", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","items":[{"field":"name","columns":2}]}]}`, "layout[0].items[0]"},
		{"form bad display", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"section":"A","display":"accordion","items":[{"field":"name"}]}]}`, "layout[0].display"},
		{"form bad visibility", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","visible":"record.x =="}]}`, "layout[0].visible"},
		{"form visibility calls an unknown function", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","visible":"nope(record.x)"}]}`, "layout[0].visible"},
		{"form default of the wrong type", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"stage","default":"z"}]}`, "layout[0].default"},
		{"form bad pattern", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","validation":{"pattern":"(["}}]}`, "layout[0].validation.pattern"},
		{"form max below min length", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","validation":{"min_length":5,"max_length":2}}]}`, "layout[0].validation.max_length"},
		{"form min/max on text", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","validation":{"min":1}}]}`, "layout[0].validation.min"},
		{"form required read-only without default", spec.KindForm, `{"slug":"f","entity":"lead","layout":[{"field":"name","read_only":true,"required":true}]}`, "layout[0].read_only"},
		{"valid flow", spec.KindFlow, `{"slug":"fl","trigger":{"type":"record.created","entity":"lead"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow unknown trigger", spec.KindFlow, `{"slug":"fl","trigger":{"type":"sometimes"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.type"},
		{"flow bad cron", spec.KindFlow, `{"slug":"fl","trigger":{"type":"cron","schedule":"every day"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.schedule"},
		{"flow cron with seconds", spec.KindFlow, `{"slug":"fl","trigger":{"type":"cron","schedule":"*/10 * * * * *"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow cron descriptor", spec.KindFlow, `{"slug":"fl","trigger":{"type":"cron","schedule":"@daily"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow cron 7 fields", spec.KindFlow, `{"slug":"fl","trigger":{"type":"cron","schedule":"0 0 9 * * 1 2026"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.schedule"},
		{"flow bad tz", spec.KindFlow, `{"slug":"fl","trigger":{"type":"cron","schedule":"0 9 * * *","timezone":"Moon/Base"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.timezone"},
		{"flow edge to nowhere", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set"}],"edges":[{"from":"a","to":"b"}]}`, "edges[0].to"},
		{"flow node names an unknown entity", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"record.create","params":{"entity":"nope","values":{}}}]}`, "nodes[0].params.entity"},
		{"flow node names an unknown report", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"report","params":{"report":"nope"}}]}`, "nodes[0].params.report"},
		{"flow node names an unknown flow", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"subflow","params":{"flow":"nope"}}]}`, "nodes[0].params.flow"},
		{"flow node refs that exist or are templated", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"record.find","params":{"entity":"lead"}},{"id":"b","type":"report","params":{"report":"r1"}},{"id":"c","type":"subflow","params":{"flow":"draft-flow"}},{"id":"d","type":"record.find","params":{"entity":"{{ trigger.input.e }}"}}]}`, ""},
		{"flow duplicate node", spec.KindFlow, `{"slug":"fl","trigger":{"type":"manual"},"nodes":[{"id":"a","type":"set"},{"id":"a","type":"set"}]}`, "nodes[1].id"},
		{"flow stage trigger", spec.KindFlow, `{"slug":"fl","trigger":{"type":"stage.changed","entity":"lead","to":"b"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow poll", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"json_items","credential":"api","params":{"url":"https://x"},"interval":"10m"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow poll default interval", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"json_items"},"nodes":[{"id":"a","type":"set"}]}`, ""},
		{"flow poll without connector", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","trigger":"json_items"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.connector"},
		{"flow poll without trigger id", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.trigger"},
		{"flow poll too often", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"t","interval":"30s"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.interval"},
		{"flow poll too rarely", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"t","interval":"48h"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.interval"},
		{"flow poll bad interval", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"t","interval":"often"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.interval"},
		{"flow poll params not an object", spec.KindFlow, `{"slug":"fl","trigger":{"type":"poll","connector":"http","trigger":"t","params":[1]},"nodes":[{"id":"a","type":"set"}]}`, "trigger.params"},
		{"flow webhook bad key", spec.KindFlow, `{"slug":"fl","trigger":{"type":"webhook","key":"a b"},"nodes":[{"id":"a","type":"set"}]}`, "trigger.key"},
		{"valid report", spec.KindReport, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"stage"}],"measures":[{"agg":"count"}]}`, ""},
		{"report bad agg", spec.KindReport, `{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"mode","field":"name"}]}`, "measures[0].agg"},
		{"report unknown dim", spec.KindReport, `{"slug":"r","entity":"lead","kind":"pivot","dimensions":[{"field":"region"}]}`, "dimensions[0].field"},
		{"report sum without field", spec.KindReport, `{"slug":"r","entity":"lead","kind":"pivot","measures":[{"agg":"sum"}]}`, "measures[0].field"},
		{"dashboard unknown report", spec.KindDashboard, `{"slug":"d","widgets":[{"report":"r2","x":0,"y":0,"w":6,"h":4}]}`, "widgets[0].report"},
		{"dashboard ok", spec.KindDashboard, `{"slug":"d","widgets":[{"report":"r1","x":0,"y":0,"w":6,"h":4}]}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := validate.Definition(decode(t, tc.kind, tc.body), lk, nil)
			if tc.wantField == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == tc.wantField {
					if e.Code == "" || e.Message == "" {
						t.Fatalf("error without code or message: %+v", e)
					}
					return
				}
			}
			t.Fatalf("want an error at %s, got %v", tc.wantField, errs)
		})
	}
}

func TestDecodeRejectsUnknownKeysWithPath(t *testing.T) {
	_, err := spec.Decode(spec.KindEntity, []byte(`{"slug":"x","fields":[],"colour":1}`))
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("err = %v", err)
	}
	_, err = spec.Decode(spec.KindEntity, []byte(`{"slug":"x","fields":"nope"}`))
	if errs, ok := err.(spec.Errors); !ok || errs[0].Field != "fields" {
		t.Fatalf("err = %#v", err)
	}
}

func TestUnknownKeysAreReportedAtTheirPath(t *testing.T) {
	cases := []struct{ kind, body, want string }{
		{spec.KindEntity, `{"slug":"x","fields":[{"key":"a","type":"text"},{"key":"b","type":"text","bogus":1}]}`, "fields[1].bogus"},
		{spec.KindEntity, `{"slug":"x","fields":[],"stages":{"field":"s","order":[],"transitions":[{"from":"a","to":"b","bogus2":1}]}}`, "stages.transitions[0].bogus2"},
		{spec.KindEntity, `{"slug":"x","fields":[],"dedupe":{"keys":[],"extra":true}}`, "dedupe.extra"},
		{spec.KindForm, `{"slug":"f","entity":"e","layout":[{"field":"a","bogus":1}]}`, "layout[0].bogus"},
		{spec.KindFlow, `{"slug":"f","trigger":{"type":"manual","colour":1},"nodes":[]}`, "trigger.colour"},
		{spec.KindEntity, `{"slug":"x","fields":[],"top":1}`, "top"},
	}
	for _, c := range cases {
		_, err := spec.Decode(c.kind, []byte(c.body))
		errs, ok := err.(spec.Errors)
		if !ok || len(errs) != 1 || errs[0].Field != c.want || errs[0].Code != "unknown_field" {
			t.Errorf("%s: got %#v, want unknown_field at %s", c.body, err, c.want)
		}
	}
}

func TestLinesDefinitions(t *testing.T) {
	product := decode(t, spec.KindEntity, `{"slug":"product","fields":[{"key":"name","type":"text"},{"key":"price","type":"money"}]}`).(*spec.Entity)
	lk := lookup{"product": product}
	lines := func(sub string) string {
		return `{"slug":"quote","fields":[{"key":"items","type":"lines","fields":[` + sub + `]}]}`
	}
	good := `{"key":"product","type":"relation","target":"product","fill":{"unit_price":"price"}},{"key":"unit_price","type":"money"},{"key":"qty","type":"number"},{"key":"total","type":"formula","formula":"line.qty * line.unit_price"}`
	cases := []struct{ name, body, wantField string }{
		{"valid lines", lines(good), ""},
		{"no sub-fields", lines(``), "fields[0].fields"},
		{"nested lines", lines(`{"key":"sub","type":"lines","fields":[{"key":"a","type":"text"}]}`), "fields[0].fields[0].type"},
		{"attachment column", lines(`{"key":"f","type":"attachment"}`), "fields[0].fields[0].type"},
		{"reserved id column", lines(`{"key":"id","type":"text"}`), "fields[0].fields[0].key"},
		{"duplicate column", lines(`{"key":"a","type":"text"},{"key":"a","type":"number"}`), "fields[0].fields[1].key"},
		{"bad column formula", lines(`{"key":"a","type":"formula","formula":"line.("}`), "fields[0].fields[0].formula"},
		{"relation without target", lines(`{"key":"p","type":"relation"}`), "fields[0].fields[0].target"},
		{"fill into an unknown column", lines(`{"key":"p","type":"relation","target":"product","fill":{"nope":"price"}}`), "fields[0].fields[0].fill.nope"},
		{"fill into a formula", lines(`{"key":"p","type":"relation","target":"product","fill":{"t":"price"}},{"key":"t","type":"formula","formula":"1"}`), "fields[0].fields[0].fill.t"},
		{"fill from an unknown target field", lines(`{"key":"p","type":"relation","target":"product","fill":{"u":"cost"}},{"key":"u","type":"money"}`), "fields[0].fields[0].fill.u"},
		{"fill on a text column", lines(`{"key":"p","type":"text","fill":{"u":"price"}},{"key":"u","type":"money"}`), "fields[0].fields[0].fill"},
		{"unknown target entity", lines(`{"key":"p","type":"relation","target":"nope"}`), "fields[0].fields[0].target"},
		{"unique lines", `{"slug":"quote","fields":[{"key":"items","type":"lines","unique":true,"fields":[{"key":"a","type":"text"}]}]}`, "fields[0].unique"},
		{"sub-fields on a text field", `{"slug":"quote","fields":[{"key":"t","type":"text","fields":[{"key":"a","type":"text"}]}]}`, "fields[0].fields"},
		{"max_rows out of range", `{"slug":"quote","fields":[{"key":"items","type":"lines","max_rows":5000,"fields":[{"key":"a","type":"text"}]}]}`, "fields[0].max_rows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ent := decode(t, spec.KindEntity, tc.body).(*spec.Entity)
			errs := append(validate.Entity(ent), validate.EntityRefs(ent, lk)...)
			if tc.wantField == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			for _, e := range errs {
				if e.Field == tc.wantField && e.Code != "" && e.Message != "" {
					return
				}
			}
			t.Fatalf("want an error at %s, got %v", tc.wantField, errs)
		})
	}
	// reports may group by and sum a column of a lines field
	quote := decode(t, spec.KindEntity, lines(good)).(*spec.Entity)
	rep := decode(t, spec.KindReport, `{"slug":"r","entity":"quote","kind":"pivot","dimensions":[{"field":"items.product"}],"measures":[{"agg":"sum","field":"items.total"}]}`)
	if errs := validate.Definition(rep, lookup{"quote": quote}, nil); len(errs) > 0 {
		t.Fatalf("report over lines: %v", errs)
	}
	rep = decode(t, spec.KindReport, `{"slug":"r","entity":"quote","kind":"pivot","dimensions":[{"field":"items.nope"}]}`)
	if errs := validate.Definition(rep, lookup{"quote": quote}, nil); len(errs) == 0 {
		t.Fatal("unknown lines column accepted in a report")
	}
}
