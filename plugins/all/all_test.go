package all_test

import (
	"flag"
	"os"
	"testing"

	_ "github.com/tessera/tessera/plugins/all"
	"github.com/tessera/tessera/plugins/sdk"
	"github.com/tessera/tessera/plugins/sdk/sdktest"
)

var update = flag.Bool("update", false, "rewrite docs/connectors.md")

const docsPath = "../../docs/connectors.md"

// TestBuiltins checks every built-in connector's spec.
func TestBuiltins(t *testing.T) {
	want := []string{"ai", "dingtalk", "email", "feishu", "http", "pdf", "slack", "sms", "webhook", "wecom"}
	for _, id := range want {
		c, ok := sdk.Get(id)
		if !ok {
			t.Errorf("connector %s is not registered", id)
			continue
		}
		sdktest.CheckSpec(t, c)
	}
}

// TestDocsUpToDate keeps docs/connectors.md generated from the specs.
func TestDocsUpToDate(t *testing.T) {
	got := sdk.Markdown(sdk.Default().Catalog())
	if *update {
		if err := os.WriteFile(docsPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(docsPath)
	if err != nil || string(have) != got {
		t.Fatalf("docs/connectors.md is stale: run go test ./plugins/all -update")
	}
}
