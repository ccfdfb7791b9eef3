package mobile

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

func allowHashes(t testing.TB, bins ...[]byte) Validator {
	t.Helper()
	ids := make([]string, len(bins))
	for i, b := range bins {
		ids[i] = idOf(b)
	}
	v, err := AllowHashes(ids...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestInspectGoModule(t *testing.T) {
	info, err := Inspect(goModule(t, "basic"))
	if err != nil {
		t.Fatal(err)
	}
	var imports []string
	for _, im := range info.Imports {
		imports = append(imports, im.Name)
		if im.Module != wasiModule || !allowedWASI[im.Name] {
			t.Errorf("Go module imports %v, outside the allowed set", im)
		}
	}
	for _, need := range []string{"fd_write", "proc_exit", "clock_time_get", "random_get"} {
		if !slices.Contains(imports, need) {
			t.Errorf("imports %v lack %s", imports, need)
		}
	}
	add, ok := info.Export("add")
	if !ok || !slices.Equal(add.Params, []ValueType{I32, I32}) || !slices.Equal(add.Results, []ValueType{I32}) {
		t.Errorf("add: %+v", add)
	}
	fns := functions(info)
	for _, name := range []string{"add", "mul64", "half", "spin", "grow", "recurse", "summary", "echo", "fail"} {
		if _, ok := fns[name]; !ok {
			t.Errorf("function %s not callable; have %v", name, funcNames(fns))
		}
	}
	for _, hidden := range []string{"_initialize", "pyro_alloc", "pyro_fn_summary"} {
		if _, ok := fns[hidden]; ok {
			t.Errorf("%s is callable", hidden)
		}
	}
	if !fns["summary"].value || fns["add"].value {
		t.Errorf("conventions: summary %v add %v", fns["summary"].value, fns["add"].value)
	}
	if !info.HasMemory || info.MemoryMin == 0 {
		t.Errorf("memory: %v %d", info.HasMemory, info.MemoryMin)
	}
}

func TestInspectMalformed(t *testing.T) {
	good := rawModule(nil, []rawFunc{{body: nil, export: "f"}}, 1, -1, nil)
	if _, err := Inspect(good); err != nil {
		t.Fatalf("good module: %v", err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"not wasm":         []byte("#!/bin/sh\nrm -rf /\n"),
		"version 2":        []byte("\x00asm\x02\x00\x00\x00"),
		"truncated":        good[:len(good)-3],
		"section too long": append([]byte("\x00asm\x01\x00\x00\x00\x01\xff\xff\xff\xff\x0f"), 0),
		"leb too long":     []byte("\x00asm\x01\x00\x00\x00\x01\x80\x80\x80\x80\x80\x01"),
		"import count lie": append([]byte("\x00asm\x01\x00\x00\x00"), section(2, leb(1000))...),
		"huge name":        append([]byte("\x00asm\x01\x00\x00\x00"), section(2, leb(1), leb(1<<20))...),
		"too many imports": append([]byte("\x00asm\x01\x00\x00\x00"), section(2, leb(MaxImports+1), make([]byte, 4*(MaxImports+1)))...),
		"unknown section":  append([]byte("\x00asm\x01\x00\x00\x00"), section(99)...),
		"out of order":     append([]byte("\x00asm\x01\x00\x00\x00"), append(section(7, leb(0)), section(1, leb(0))...)...),
		"bad export index": rawExportIndex(5),
	}
	for name, bin := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Inspect(bin)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrLimit", err)
			}
		})
	}
}

// rawExportIndex is a module whose export names a function that does not
// exist.
func rawExportIndex(idx uint32) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(1, vec([]byte{0x60, 0, 0}))...)
	out = append(out, section(3, vec(leb(0)))...)
	out = append(out, section(7, vec(bytes.Join([][]byte{wname("f"), {0}, leb(idx)}, nil)))...)
	return out
}

// TestGoClient: a Go client ships the Go-built module through a daemon,
// calls numeric and value functions, lists and unloads it.
func TestGoClient(t *testing.T) {
	bin := goModule(t, "basic")
	s := startServed(t, nil, WithValidator(allowHashes(t, bin)))
	// msgpack carries bytes both ways (serpent turns them into a dict,
	// which the service accepts as bytes in arguments)
	p := s.proxy(t, pyro.WithSerializer("msgpack"))
	ctx := ctxT(t)
	id, err := s.proxy(t).Call(ctx, "load", bin) // serpent
	if err != nil {
		t.Fatal(err)
	}
	if id != idOf(bin) {
		t.Fatalf("id %v, want %s", id, idOf(bin))
	}
	again, err := p.Call(ctx, "load", bin, nil)
	if err != nil || again != id {
		t.Fatalf("second load: %v %v", again, err)
	}
	check := func(want any, fn string, args ...any) {
		t.Helper()
		got, err := p.Call(ctx, "call", append([]any{id, fn}, args...)...)
		if err != nil {
			t.Fatalf("%s%v: %v", fn, args, err)
		}
		if py.Repr(got) != py.Repr(want) {
			t.Fatalf("%s%v = %s, want %s", fn, args, py.Repr(got), py.Repr(want))
		}
	}
	check(int64(5), "add", 2, 3)
	check(int64(-2147483648), "add", int64(0x7fffffff), 1) // i32 wraps
	check(int64(1)<<40, "mul64", int64(1)<<20, int64(1)<<20)
	check(1.25, "half", 2.5)
	data := []byte{1, 2, 3, 200, 10}
	check(py.DictOf("above", int64(2), "count", int64(5), "max", int64(200), "sum", int64(216)), "summary", data, 5)
	echoArgs := []any{"héllo", []byte{0, 1, 2}, int64(-7), 1.5, true, nil, []any{int64(1), "x"}, py.DictOf("k", []any{})}
	check(echoArgs, "echo", echoArgs...)

	_, err = p.Call(ctx, "call", id, "fail", "x")
	wantRemote(t, err, "builtins.RuntimeError", "fail failed: bad input: [x]")
	_, err = p.Call(ctx, "call", id, "nope")
	wantRemote(t, err, "builtins.ValueError", `has no function "nope"`, "summary")
	_, err = p.Call(ctx, "call", id, "add", 1)
	wantRemote(t, err, "builtins.ValueError", "add takes 2 arguments (i32, i32), 1 given")
	_, err = p.Call(ctx, "call", id, "add", "1", 2)
	wantRemote(t, err, "builtins.ValueError", "argument 1 of add must be an int (i32), not str")
	_, err = p.Call(ctx, "call", id, "add", int64(1)<<33, 2)
	wantRemote(t, err, "builtins.ValueError", "out of range for i32")
	_, err = p.Call(ctx, "call", "00", "add", 1, 2)
	wantRemote(t, err, "builtins.ValueError", "no module 00 is loaded")

	mods, err := p.Call(ctx, "modules")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := mods.([]any)
	if len(l) != 1 {
		t.Fatalf("modules() = %s", py.Repr(mods))
	}
	d := l[0].(*py.Dict)
	gotID, _ := d.GetString("id")
	by, _ := d.GetString("loaded_by")
	size, _ := d.GetString("size")
	if gotID != id || size != int64(len(bin)) || !strings.Contains(py.Repr(by), "client at 127.0.0.1") {
		t.Fatalf("modules() = %s", py.Repr(mods))
	}
	if _, err := p.Call(ctx, "unload", id); err != nil {
		t.Fatal(err)
	}
	_, err = p.Call(ctx, "call", id, "add", 1, 2)
	wantRemote(t, err, "builtins.ValueError", "is loaded")
	if got := s.svc.Modules(context.Background()); len(got) != 0 {
		t.Fatalf("after unload: %+v", got)
	}
}

// TestLocalCall uses the Go API without a daemon.
func TestLocalCall(t *testing.T) {
	bin := goModule(t, "basic")
	s := newTestService(t, WithValidator(allowHashes(t, bin)))
	ctx := ctxT(t)
	id, err := s.Load(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Call(ctx, id, "add", int64(40), int64(2))
	if err != nil || got != int64(42) {
		t.Fatalf("add = %v, %v", got, err)
	}
	if err := s.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}
}
