package templates_test

import (
	"encoding/json"
	"testing"
	"unicode"

	"github.com/tessera/tessera/builder/spec"
	"github.com/tessera/tessera/builder/templates"
	"github.com/tessera/tessera/runtime/records"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestGateMessagesBilingual: every stage gate message of every template is written "中文 /
// English", so the stage bar and a refused move speak the reader's language (records.
// LocalizeMessage picks the part).
func TestGateMessagesBilingual(t *testing.T) {
	list, err := templates.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		t.Fatal("no templates")
	}
	gates := 0
	for _, tpl := range list {
		raw, err := templates.Bundle(tpl.Name)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entities []spec.Entity `json:"entities"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s: %v", tpl.Name, err)
		}
		for _, ent := range b.Entities {
			if ent.Stages == nil {
				continue
			}
			for _, tr := range ent.Stages.Transitions {
				if tr.Message == "" {
					continue
				}
				gates++
				zh, en := records.LocalizeMessage(tr.Message, "zh-CN"), records.LocalizeMessage(tr.Message, "en")
				if zh == en || !hasHan(zh) || hasHan(en) || en == "" {
					t.Errorf("%s: %s gate %s → %s: message %q is not \"中文 / English\" (zh %q, en %q)", tpl.Name, ent.Slug, tr.From, tr.To, tr.Message, zh, en)
				}
			}
		}
	}
	if gates == 0 {
		t.Fatal("no gate messages found: the test reads nothing")
	}
}
