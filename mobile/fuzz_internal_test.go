package mobile

import (
	"context"
	"errors"
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to module loading: the bounded
// inspection, the import rule and, for what passes them, the compiler;
// every outcome is a module id or one of the package's errors, never a
// panic, and the service stays usable.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(rawModule(nil, []rawFunc{{body: i32const(7), results: []ValueType{I32}, export: "f"}}, 1, -1, nil))
	f.Add(rawModule([]rawImport{{wasiModule, "fd_write"}}, []rawFunc{{body: opCall0, export: "f"}}, 1, -1, []byte("hi")))
	f.Add(rawModule([]rawImport{{wasiModule, "path_open"}}, []rawFunc{{export: "f"}}, 1, -1, nil))
	f.Add(rawModule(nil, []rawFunc{{body: opLoopForever}, {export: "g"}}, 2, 0, nil))
	f.Add(rawExportIndex(3))
	s, err := NewService(WithValidator(acceptAll()), WithMaxModules(1<<20, 1<<20, 1<<40))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, bin []byte) {
		if p := os.Getenv("PYROGO_FUZZ_LAST"); p != "" {
			_ = os.WriteFile(p, bin, 0o600) // diagnosis of crashes that kill the worker
		}
		id, err := s.Load(context.Background(), bin, nil)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error outside the package's kinds: %v", err)
			}
			return
		}
		if id != idOf(bin) {
			t.Fatalf("id %s", id)
		}
		if err := s.Unload(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzInspect: the decoder that runs before validators never panics and
// stays within its bounds.
func FuzzInspect(f *testing.F) {
	f.Add(rawModule([]rawImport{{"a", "b"}}, []rawFunc{{params: []ValueType{I32}, export: "x"}}, 1, -1, nil))
	f.Add(rawExportIndex(0))
	f.Fuzz(func(t *testing.T, bin []byte) {
		info, err := Inspect(bin)
		if err != nil {
			return
		}
		if len(info.Imports) > MaxImports || len(info.Exports) > MaxExports || len(info.Custom) > MaxCustom {
			t.Fatalf("bounds passed: %d imports %d exports %d custom", len(info.Imports), len(info.Exports), len(info.Custom))
		}
		_ = functions(info)
	})
}
