package api_test

import (
	"context"
	"testing"

	"github.com/tessera/tessera/server/apitest"
)

// rerunFlow is contract created -> big (condition) -> calc (set) -> mark (record.update) on
// true, slow (approval) on false.
func rerunFlow(calc string) map[string]any {
	return map[string]any{"slug": "rerun-deal", "trigger": map[string]any{"type": "record.created", "entity": "contract"},
		"nodes": []any{
			map[string]any{"id": "big", "type": "condition", "params": map[string]any{"expr": "trigger.record.amount > 500000"}},
			map[string]any{"id": "calc", "type": "set", "params": map[string]any{"values": map[string]any{"note": calc}}},
			map[string]any{"id": "mark", "type": "record.update", "params": map[string]any{"entity": "contract", "id": "{{ trigger.record.id }}",
				"values": map[string]any{"status": "{{ steps.calc.note }}"}}},
			map[string]any{"id": "slow", "type": "approval", "params": map[string]any{"title": "x",
				"levels": []any{map[string]any{"name": "director", "assignees": []any{"starter"}}}}},
		},
		"edges": []any{
			map[string]any{"from": "big", "to": "calc", "port": "true"}, map[string]any{"from": "calc", "to": "mark"},
			map[string]any{"from": "big", "to": "slow", "port": "false"},
		}}
}

// "Run from this node": one node of the draft works again on the input it had in a test run
// (the run's trigger and step outputs), as a new test run of one step; its writes happen.
func TestRerunNodeFromDraft(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "contract", "fields": []any{
		map[string]any{"key": "name", "type": "text", "required": true},
		map[string]any{"key": "amount", "type": "money"},
		map[string]any{"key": "status", "type": "select", "options": []any{"draft", "approved", "checked", "rejected"}}}})
	publishFlow(t, e, rerunFlow("approved"))
	publishFlow(t, e, map[string]any{"slug": "other", "trigger": map[string]any{"type": "manual"},
		"nodes": []any{map[string]any{"id": "calc", "type": "set", "params": map[string]any{"values": map[string]any{"note": "x"}}}}})
	rec := e.Must(201, "POST", "/api/v1/apps/crm/entities/contract/records", map[string]any{"name": "重跑合同", "amount": 900000}, e.AdminToken).JSON()
	recID := rec["id"].(string)
	src := e.Must(202, "POST", "/api/v1/apps/crm/flows/rerun-deal/run?test=true&record="+recID, nil, e.AdminToken).JSON()["run_id"].(string)
	if run := waitRunStatus(t, e, src, "succeeded", "failed"); run["status"] != "succeeded" {
		t.Fatalf("test run: %v", run)
	}
	other := e.Must(202, "POST", "/api/v1/apps/crm/flows/other/run", map[string]any{}, e.AdminToken).JSON()["run_id"].(string)
	waitRunStatus(t, e, other, "succeeded", "failed")

	// the analyst changes calc in the draft (not published) and re-runs calc, then mark
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/rerun-deal", rerunFlow("{{ trigger.record.name + ' checked' }}"), e.AdminToken)
	calc := e.Must(200, "POST", "/api/v1/apps/crm/flows/rerun-deal/test/step", map[string]any{"run_id": src, "node": "calc"}, e.AdminToken).JSON()
	if out, _ := calc["output"].(map[string]any); calc["status"] != "succeeded" || out["note"] != "重跑合同 checked" || calc["test"] != true || calc["rerun_of"] != src {
		t.Fatalf("calc re-run on the draft's config: %v", calc)
	}
	run := e.Must(200, "GET", "/api/v1/runs/"+calc["run_id"].(string), nil, e.AdminToken).JSON()
	if run["test"] != true || run["rerun_of"] != src || run["rerun_node"] != "calc" || run["status"] != "succeeded" || len(run["steps"].([]any)) != 1 {
		t.Fatalf("the re-run is a test run of one step: %v", run)
	}
	if by := run["started_by"].(map[string]any); by["record_title"] != "重跑合同" {
		t.Fatalf("the re-run keeps the sample's trigger: %v", by)
	}
	// mark reads steps.calc from the earlier run ("approved") and writes the record
	mark := e.Must(200, "POST", "/api/v1/apps/crm/flows/rerun-deal/test/step", map[string]any{"run_id": src, "node": "mark"}, e.AdminToken).JSON()
	if mark["status"] != "succeeded" {
		t.Fatalf("mark: %v", mark)
	}
	if got := e.Must(200, "GET", "/api/v1/apps/crm/entities/contract/records/"+recID, nil, e.AdminToken).JSON()["data"].(map[string]any); got["status"] != "approved" {
		t.Fatalf("the re-run's write: %v", got)
	}
	// a failing draft config answers 200 with the failed step (the panel shows it)
	bad := rerunFlow("{{ trigger.record.nope.deeper }}")
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/rerun-deal", bad, e.AdminToken)
	failed := e.Must(200, "POST", "/api/v1/apps/crm/flows/rerun-deal/test/step", map[string]any{"run_id": src, "node": "calc"}, e.AdminToken).JSON()
	if failed["status"] != "failed" || failed["error"] == nil {
		t.Fatalf("a failing re-run: %v", failed)
	}
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/rerun-deal", rerunFlow("ok"), e.AdminToken)

	_, rep := e.CreateUser("rerun-rep@example.com", "Rep", nil)
	for _, tc := range []struct {
		name, flow, token string
		body              any
		want              int
		field             string
	}{
		{"unknown run", "rerun-deal", "", map[string]any{"run_id": "00000000-0000-0000-0000-000000000000", "node": "calc"}, 404, ""},
		{"run of another flow", "rerun-deal", "", map[string]any{"run_id": other, "node": "calc"}, 404, ""},
		{"node not in the draft", "rerun-deal", "", map[string]any{"run_id": src, "node": "gone"}, 404, ""},
		{"unknown flow", "nope", "", map[string]any{"run_id": src, "node": "calc"}, 404, ""},
		{"node that did not run", "rerun-deal", "", map[string]any{"run_id": src, "node": "slow"}, 422, "node"},
		{"missing run id", "rerun-deal", "", map[string]any{"node": "calc"}, 422, "run_id"},
		{"bad run id", "rerun-deal", "", map[string]any{"run_id": "abc", "node": "calc"}, 422, "run_id"},
		{"missing node", "rerun-deal", "", map[string]any{"run_id": src}, 422, "node"},
		{"unknown key", "rerun-deal", "", map[string]any{"run_id": src, "node": "calc", "x": 1}, 422, ""},
		{"not a builder", "rerun-deal", rep, map[string]any{"run_id": src, "node": "calc"}, 404, ""},
		{"signed out", "rerun-deal", "-", map[string]any{"run_id": src, "node": "calc"}, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := e.AdminToken
			switch tc.token {
			case "-":
				tok = ""
			case "":
			default:
				tok = tc.token
			}
			r := e.Must(tc.want, "POST", "/api/v1/apps/crm/flows/"+tc.flow+"/test/step", tc.body, tok)
			if tc.field != "" {
				found := false
				for _, fe := range r.JSON()["errors"].([]any) {
					found = found || fe.(map[string]any)["field"] == tc.field
				}
				if !found {
					t.Fatalf("no error on %s: %s", tc.field, r.Body)
				}
			}
		})
	}

	// a node that waits (approval) is refused: it is tested by a test run from the start
	small := e.Must(201, "POST", "/api/v1/apps/crm/entities/contract/records", map[string]any{"name": "小合同", "amount": 10}, e.AdminToken).JSON()["id"].(string)
	waiting := e.Must(202, "POST", "/api/v1/apps/crm/flows/rerun-deal/run?test=true&record="+small, nil, e.AdminToken).JSON()["run_id"].(string)
	waitRunStatus(t, e, waiting, "waiting")
	if r := e.Must(422, "POST", "/api/v1/apps/crm/flows/rerun-deal/test/step", map[string]any{"run_id": waiting, "node": "slow"}, e.AdminToken).JSON(); r["errors"].([]any)[0].(map[string]any)["code"] != "waits" {
		t.Fatalf("waiting node: %v", r)
	}
	// an invalid draft config of the node: 422 with the node's path
	broken := rerunFlow("x")
	broken["nodes"].([]any)[0].(map[string]any)["params"] = map[string]any{"expr": "trigger.record.amount >"}
	// (a draft may hold what publishing would refuse)
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/rerun-deal", broken, e.AdminToken)
	{
		r := e.Must(422, "POST", "/api/v1/apps/crm/flows/rerun-deal/test/step", map[string]any{"run_id": src, "node": "big"}, e.AdminToken).JSON()
		if f := r["errors"].([]any)[0].(map[string]any)["field"]; f != "nodes[0].params.expr" {
			t.Fatalf("invalid draft node: %v", r)
		}
	}
}

// A pinned test sample is saved in the draft (GET shows it, also after publishing), never in
// a published version, and does not count as an unpublished change.
func TestPinTestSample(t *testing.T) {
	e := apitest.New(t)
	e.Must(201, "POST", "/api/v1/apps", map[string]any{"slug": "crm", "name": "CRM"}, e.AdminToken)
	publishEntity(t, e, map[string]any{"slug": "contract", "fields": []any{map[string]any{"key": "name", "type": "text"}}})
	publishFlow(t, e, map[string]any{"slug": "pinned", "trigger": map[string]any{"type": "record.created", "entity": "contract"},
		"nodes": []any{map[string]any{"id": "calc", "type": "set", "params": map[string]any{"values": map[string]any{"a": "1"}}}}})
	rec := "7b0c3a52-4a53-4f4c-9a3e-2f1f3c1d2e10"
	_, rep := e.CreateUser("pin-rep@example.com", "Rep", nil)
	for _, tc := range []struct {
		name, method, flow, token string
		body                      any
		want                      int
	}{
		{"bad record id", "PUT", "pinned", "", map[string]any{"record": "abc"}, 422},
		{"nothing to pin", "PUT", "pinned", "", map[string]any{"label": "x"}, 422},
		{"unknown key", "PUT", "pinned", "", map[string]any{"record": rec, "x": 1}, 422},
		{"unknown flow", "PUT", "nope", "", map[string]any{"record": rec}, 404},
		{"not a builder", "PUT", "pinned", rep, map[string]any{"record": rec}, 404},
		{"pin", "PUT", "pinned", "", map[string]any{"record": rec, "label": "大合同"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := e.AdminToken
			if tc.token != "" {
				tok = tc.token
			}
			e.Must(tc.want, tc.method, "/api/v1/apps/crm/flows/"+tc.flow+"/test/sample", tc.body, tok)
		})
	}
	def := e.Must(200, "GET", "/api/v1/apps/crm/flows/pinned", nil, e.AdminToken).JSON()
	if s, _ := def["test_sample"].(map[string]any); s["record"] != rec || s["label"] != "大合同" || def["modified"] != false {
		t.Fatalf("pinned draft: %v", def)
	}
	// saving the draft keeps it; publishing leaves it out of the version
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/pinned", def, e.AdminToken)
	e.Must(200, "POST", "/api/v1/apps/crm/flows/pinned/publish", nil, e.AdminToken)
	var inVersion bool
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT bool_or(v.body ? 'test_sample') FROM definition_versions v JOIN definitions d ON d.id = v.definition_id
		WHERE d.slug = 'pinned'`).Scan(&inVersion); err != nil || inVersion {
		t.Fatalf("a published version carries the sample (%v)", err)
	}
	def = e.Must(200, "GET", "/api/v1/apps/crm/flows/pinned", nil, e.AdminToken).JSON()
	if def["test_sample"] == nil || def["modified"] != false || def["published_version"] != float64(2) {
		t.Fatalf("after publishing: %v", def)
	}
	// a body sample for webhook flows, then unpin
	e.Must(200, "PUT", "/api/v1/apps/crm/flows/pinned/test/sample", map[string]any{"body": map[string]any{"amount": 5}}, e.AdminToken)
	def = e.Must(200, "GET", "/api/v1/apps/crm/flows/pinned", nil, e.AdminToken).JSON()
	if s, _ := def["test_sample"].(map[string]any); s["body"].(map[string]any)["amount"] != float64(5) {
		t.Fatalf("body sample: %v", def)
	}
	e.Must(200, "DELETE", "/api/v1/apps/crm/flows/pinned/test/sample", nil, e.AdminToken)
	if def = e.Must(200, "GET", "/api/v1/apps/crm/flows/pinned", nil, e.AdminToken).JSON(); def["test_sample"] != nil {
		t.Fatalf("unpinned: %v", def)
	}
}
