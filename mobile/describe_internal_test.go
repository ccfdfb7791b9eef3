package mobile

import (
	"slices"
	"testing"
)

// Callables reports what the service offers: value functions by their
// short name, numeric functions by export name, reserved names left out;
// SandboxProvides follows the WASI allow-list.
func TestCallables(t *testing.T) {
	info, err := Inspect(goModule(t, "basic"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Callable{}
	var names []string
	for _, c := range info.Callables() {
		got[c.Name] = c
		names = append(names, c.Name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("not sorted: %v", names)
	}
	if c := got["summary"]; !c.Value || c.Export != "pyro_fn_summary" {
		t.Errorf("summary: %+v", c)
	}
	if c := got["add"]; c.Value || c.Export != "add" || len(c.Params) != 2 || c.Params[0] != I32 || len(c.Results) != 1 {
		t.Errorf("add: %+v", c)
	}
	for _, n := range names {
		if n == "pyro_alloc" || n == "_initialize" || n == "pyro_fn_summary" {
			t.Errorf("reserved export %s listed", n)
		}
	}
	if !SandboxProvides(Import{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: KindFunc}) ||
		SandboxProvides(Import{Module: "wasi_snapshot_preview1", Name: "path_open", Kind: KindFunc}) ||
		SandboxProvides(Import{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: KindMemory}) ||
		SandboxProvides(Import{Module: "env", Name: "f", Kind: KindFunc}) {
		t.Error("SandboxProvides disagrees with the allow-list")
	}
}
