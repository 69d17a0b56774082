// Package archtest asserts the dependency direction of DESIGN.md section 2.
package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/tessera/tessera/"

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	out, err := exec.Command("go", "list", "-deps=false", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyDirection: builder and runtime never import server; runtime imports only
// builder/spec from builder; builder/spec and plugins/sdk use only the standard library;
// connectors import only plugins/sdk from the module.
func TestDependencyDirection(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, p := range pkgs {
		name := strings.TrimPrefix(p.ImportPath, mod)
		for _, d := range p.Deps {
			local := strings.HasPrefix(d, mod)
			dep := strings.TrimPrefix(d, mod)
			isStd := !strings.Contains(strings.Split(d, "/")[0], ".")
			switch {
			case (strings.HasPrefix(name, "builder/") || strings.HasPrefix(name, "runtime/")) && local && strings.HasPrefix(dep, "server/"):
				t.Errorf("%s imports %s: builder and runtime must not import server", name, dep)
			case strings.HasPrefix(name, "runtime/") && local && strings.HasPrefix(dep, "builder/") && dep != "builder/spec":
				t.Errorf("%s imports %s: runtime may import only builder/spec from builder", name, dep)
			case (name == "builder/spec" || name == "plugins/sdk") && !isStd:
				t.Errorf("%s imports %s: it must use only the standard library", name, dep)
			case strings.HasPrefix(name, "plugins/") && name != "plugins/sdk" && name != "plugins/all" && !strings.HasPrefix(name, "plugins/sdk/") && local &&
				dep != "plugins/sdk" && !strings.HasPrefix(dep, "plugins/sdk/"):
				t.Errorf("%s imports %s: connectors import only plugins/sdk from this module", name, dep)
			}
		}
	}
}
