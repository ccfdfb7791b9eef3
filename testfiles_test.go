package pyro_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestFileNames holds the module to its rule for naming test files:
// a test file of package x itself (a white-box test, which may use
// unexported names) is named *_internal_test.go, and a test file of
// package x_test (a black-box test, through the exported API only) is
// named *_test.go without that suffix. The name says which kind a file
// is before it is opened.
func TestTestFileNames(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		checked++
		external := strings.HasSuffix(f.Name.Name, "_test")
		internal := strings.HasSuffix(path, "_internal_test.go")
		switch {
		case external && internal:
			t.Errorf("%s: package %s (an external test) in an *_internal_test.go file", path, f.Name.Name)
		case !external && !internal:
			t.Errorf("%s: package %s (an internal test) should be named %s", path, f.Name.Name, strings.TrimSuffix(path, "_test.go")+"_internal_test.go")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("only %d test files found: is the walk in the module's root?", checked)
	}
}
