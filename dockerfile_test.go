package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerignore answers whether a context path is left out of the Docker build context by
// .dockerignore (Docker's rules: a pattern excludes a path or any of its parents, `**` spans
// directories, `!` re-includes, the last matching pattern wins).
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func readDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no .dockerignore: %v", err)
	}
	defer f.Close()
	var d dockerignore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(filepath.Clean(strings.TrimPrefix(line, "!")), "/")
		var re strings.Builder
		for i := 0; i < len(line); i++ {
			switch {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case line[i] == '*':
				re.WriteString("[^/]*")
			case line[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(line[i : i+1]))
			}
		}
		d = append(d, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile("^" + re.String() + "$"), negate})
	}
	return d
}

func (d dockerignore) excluded(path string) bool {
	path = filepath.ToSlash(filepath.Clean(path))
	out := false
	for _, p := range d {
		for q := path; ; q = filepath.Dir(q) {
			if p.re.MatchString(q) {
				out = !p.negate
				break
			}
			if q == "." || q == "/" || !strings.Contains(q, "/") {
				break
			}
		}
	}
	return out
}

// TestDockerfileCopiesOnlyWhatTheContextHas checks the Dockerfile without a Docker engine: every
// COPY source (other than from a build stage) exists in the repository and survives
// .dockerignore, the build needs what `COPY . .` brings, and the host's dependencies, data and
// build output stay out of the context.
func TestDockerfileCopiesOnlyWhatTheContextHas(t *testing.T) {
	ignore := readDockerignore(t, ".dockerignore")
	src, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "\\\n", " ")
	copies := 0
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.EqualFold(fields[0], "COPY") && !strings.EqualFold(fields[0], "ADD") {
			continue
		}
		var args []string
		fromStage := false
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "--from=") {
				fromStage = true
			}
			if !strings.HasPrefix(f, "--") {
				args = append(args, f)
			}
		}
		if fromStage {
			continue
		}
		for _, source := range args[:len(args)-1] {
			copies++
			matches, err := filepath.Glob(strings.TrimSuffix(source, "/"))
			if err != nil || len(matches) == 0 {
				t.Errorf("Dockerfile: COPY %s: no such file in the repository", source)
				continue
			}
			for _, m := range matches {
				if m != "." && ignore.excluded(m) {
					t.Errorf("Dockerfile: COPY %s: %s is excluded by .dockerignore", source, m)
				}
			}
		}
	}
	if copies == 0 {
		t.Fatal("found no COPY in the Dockerfile")
	}
	for _, path := range []string{"go.mod", "go.sum", "main.go", "ui/embed.go", "ui/dist/.gitkeep", "ui/package.json",
		"ui/package-lock.json", "ui/index.html", "ui/vite.config.ts", "ui/tsconfig.json", "ui/tsconfig.node.json",
		"ui/playwright.config.ts", "ui/src/main.tsx", "migrations", "plugins/pdf/fonts/wqy-microhei.ttf"} {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the image build needs %s, which the repository lacks", path)
		} else if ignore.excluded(path) {
			t.Errorf("the image build needs %s, which .dockerignore excludes", path)
		}
	}
	for _, path := range []string{".git/HEAD", "ui/node_modules/react/index.js", "node_modules/x", "data/secret.key",
		"data/pgdata/PG_VERSION", "bin/tessera", ".tools/node/bin/node", "ui/dist/index.html", "ui/dist/assets/index-abc.js",
		"ui/test-results/x.png", "ui/e2e-server.log", "plugins/pdf/pdf.test"} {
		if !ignore.excluded(path) {
			t.Errorf(".dockerignore lets %s into the build context", path)
		}
	}
}
