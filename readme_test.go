package pyro_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// readmeImports are the packages README snippets may use without
// importing them (a snippet is a part of a program, not a file).
var readmeImports = []string{
	"context", "errors", "fmt", "log", "log/slog", "net", "os", "slices", "strings", "sync", "time",
	"github.com/pyrogo/pyro", "github.com/pyrogo/pyro/py", "github.com/pyrogo/pyro/naming",
	"github.com/pyrogo/pyro/events", "github.com/pyrogo/pyro/metrics",
}

// readmeGoBlocks returns the ```go blocks of README.md with their line.
func readmeGoBlocks(t *testing.T) (blocks []string, lines []int) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cur *strings.Builder
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &strings.Builder{}
			lines = append(lines, i+2)
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks, lines
}

// exportImporter imports packages from the export data "go list -export"
// reports, so that snippets are checked against this checkout.
func exportImporter(t *testing.T, fset *token.FileSet) types.Importer {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check the README: %v", err)
	}
	args := append([]string{"list", "-export", "-deps", "-f", "{{if .Export}}{{.ImportPath}}\t{{.Export}}{{end}}"}, readmeImports...)
	out, err := exec.Command(goCmd, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -export: %v\n%s", err, stderr)
	}
	exports := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "\t"); ok {
			exports[path] = file
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
}

// TestReadmeGoSnippetsCompile type-checks every Go block of README.md
// against this checkout. A block of declarations is checked as a file; a
// block of statements as the body of a function that has ctx
// (context.Context), d (*pyro.Daemon) and uri (pyro.URI) in scope. Unused
// variables and imports are allowed (a snippet is a part of a program);
// every other compile error fails the test.
func TestReadmeGoSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list -export")
	}
	blocks, lines := readmeGoBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d Go blocks in README.md", len(blocks))
	}
	fset := token.NewFileSet()
	imp := exportImporter(t, fset)
	var prelude strings.Builder
	prelude.WriteString("package main\n\nimport (\n")
	for _, p := range readmeImports {
		fmt.Fprintf(&prelude, "\t%q\n", p)
	}
	prelude.WriteString(")\n\n")
	for i, block := range blocks {
		name := fmt.Sprintf("README.md:%d", lines[i])
		if isGoFile(block) {
			continue // a whole program: its own test builds it (TestReadmeMobileExample)
		}
		src := prelude.String() + block
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil { // statements
			src = prelude.String() + "func snippet(ctx context.Context, d *pyro.Daemon, uri pyro.URI) {\n" + block + "}\n"
			if f, err = parser.ParseFile(fset, name, src, 0); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
		}
		if f.Scope.Lookup("main") == nil {
			f.Decls = append(f.Decls, &ast.FuncDecl{Name: ast.NewIdent("main"), Type: &ast.FuncType{Params: &ast.FieldList{}}, Body: &ast.BlockStmt{}})
		}
		conf := types.Config{Importer: imp, Error: func(err error) {
			msg := err.Error()
			if strings.Contains(msg, "declared and not used") || strings.Contains(msg, "imported and not used") {
				return
			}
			t.Errorf("%s (block starting there): %v", name, err)
		}}
		_, _ = conf.Check("main", fset, []*ast.File{f}, nil)
	}
}

// isGoFile reports whether a README block is a whole Go file (a package
// clause after the leading comments) rather than a snippet.
func isGoFile(block string) bool {
	for line := range strings.Lines(block) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return strings.HasPrefix(line, "package ")
	}
	return false
}
