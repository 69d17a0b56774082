package config

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table from Vars")

const (
	tableBegin = "<!-- config-table:begin (generated from server/config/vars.go: go test ./server/config -run TestREADMEConfigTable -update) -->\n"
	tableEnd   = "<!-- config-table:end -->"
)

// TestEveryReadVarIsListed scans the repository's Go code (tests aside) for environment
// variables read by name and fails when one is missing from Vars, so --help and the README
// cannot forget a setting.
func TestEveryReadVarIsListed(t *testing.T) {
	root := filepath.Join("..", "..")
	read := regexp.MustCompile(`(?:os\.Getenv|os\.LookupEnv|config\.Get(?:Int|Float|Count)?)\("([A-Z][A-Z0-9_]+)"`)
	own := regexp.MustCompile(`\b(?:Get|GetInt|GetFloat|GetCount)\("([A-Z][A-Z0-9_]+)"`) // this package's own reads
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "data" || d.Name() == ".tools") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		matches := read.FindAllStringSubmatch(string(src), -1)
		if filepath.Base(filepath.Dir(p)) == "config" {
			matches = append(matches, own.FindAllStringSubmatch(string(src), -1)...)
		}
		for _, m := range matches {
			found[m[1]] = append(found[m[1]], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 10 {
		t.Fatalf("the scan found only %d variables: %v", len(found), found)
	}
	listed := map[string]bool{}
	for _, v := range Vars {
		if listed[v.Name] {
			t.Errorf("%s is listed twice in Vars", v.Name)
		}
		listed[v.Name] = true
		if v.Description == "" {
			t.Errorf("%s has no description", v.Name)
		}
	}
	var missing []string
	for name, files := range found {
		if !listed[name] {
			missing = append(missing, name+" (read in "+strings.Join(files, ", ")+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("environment variables read but not in config.Vars (add them with a default and a description):\n  %s", strings.Join(missing, "\n  "))
	}
}

// TestREADMEConfigTable: the README's configuration table is MarkdownTable(), generated.
func TestREADMEConfigTable(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, tableBegin)
	j := strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the generated configuration table markers %q ... %q", strings.TrimSpace(tableBegin), tableEnd)
	}
	want := MarkdownTable()
	got := readme[i+len(tableBegin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme[:i+len(tableBegin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table differs from config.Vars; run `go test ./server/config -run TestREADMEConfigTable -update`.\nwant:\n%s\ngot:\n%s", want, got)
}

func TestGetFallsBackToTheDefault(t *testing.T) {
	t.Setenv("TESSERA_ADDR", "")
	t.Setenv("TESSERA_MAX_BODY_KB", "-3")
	t.Setenv("TESSERA_LOG_LEVEL", "debug")
	cases := []struct{ name, want string }{
		{"TESSERA_ADDR", "127.0.0.1:8080"},
		{"TESSERA_LOG_LEVEL", "debug"},
		{"TESSERA_ROLE", "all"},
	}
	for _, c := range cases {
		if got := Get(c.name); got != c.want {
			t.Errorf("Get(%s) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := GetInt("TESSERA_MAX_BODY_KB"); got != 1024 {
		t.Errorf("GetInt(TESSERA_MAX_BODY_KB) with -3 = %d, want the default 1024", got)
	}
	c := FromEnv()
	if c.Addr != "127.0.0.1:8080" || c.MaxBody != 1024<<10 || c.LogLevel != "debug" {
		t.Errorf("FromEnv: addr %q, max body %d, log level %q", c.Addr, c.MaxBody, c.LogLevel)
	}
	defer func() {
		if recover() == nil {
			t.Error("Get of an unregistered variable did not panic")
		}
	}()
	Get("TESSERA_NOT_A_SETTING")
}
