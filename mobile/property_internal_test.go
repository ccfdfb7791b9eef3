package mobile

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/pyrogo/pyro/mobile/guest"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// genValue draws a value the convention carries: None, bool, int, float
// (not NaN), str, bytes, lists and str-keyed dicts (keys in order, as
// the guest codec writes them).
func genValue(depth int) *rapid.Generator[any] {
	leaves := []*rapid.Generator[any]{
		rapid.Just[any](nil),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Map(rapid.Int64(), func(i int64) any { return i }),
		rapid.Map(rapid.Float64(), func(f float64) any { return f }),
		rapid.Map(rapid.String(), func(s string) any { return s }),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) any {
			if b == nil {
				b = []byte{}
			}
			return b
		}),
	}
	if depth <= 0 {
		return rapid.OneOf(leaves...)
	}
	inner := genValue(depth - 1)
	return rapid.OneOf(append(leaves,
		rapid.Map(rapid.SliceOfN(inner, 0, 5), func(l []any) any {
			if l == nil {
				l = []any{}
			}
			return l
		}),
		rapid.Map(rapid.MapOfN(rapid.String(), inner, 0, 5), func(m map[string]any) any {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			d := py.NewDict(len(m))
			for _, k := range keys {
				d.SetString(k, m[k])
			}
			return d
		}))...)
}

// TestValueRoundTrip: what the host encodes as an argument list, a
// module using package guest decodes, and what it returns comes back
// equal — the serialization of the convention loses nothing it carries.
func TestValueRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		args := rapid.SliceOfN(genValue(3), 0, 6).Draw(t, "args")
		data, err := encodeArgs(slices.Clone(args))
		if err != nil {
			t.Fatal(err)
		}
		v, err := guest.Decode(data)
		if err != nil {
			t.Fatalf("guest cannot decode %x: %v", data, err)
		}
		out, err := guest.Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeResult(out)
		if err != nil {
			t.Fatal(err)
		}
		want := py.Repr(append([]any{}, args...))
		if got := py.Repr(back); got != want {
			t.Fatalf("round trip:\n got %s\nwant %s", got, want)
		}
	})
}

// TestInspectProperty: the decoder reports exactly the imports, exports
// and signatures a module was built with.
func TestInspectProperty(t *testing.T) {
	types := []ValueType{I32, I64, F32, F64}
	rapid.Check(t, func(t *rapid.T) {
		var imports []rawImport
		for i := range rapid.IntRange(0, 4).Draw(t, "imports") {
			imports = append(imports, rawImport{"m", fmt.Sprintf("i%d", i)})
		}
		n := rapid.IntRange(1, 6).Draw(t, "funcs")
		funcs := make([]rawFunc, n)
		for i := range funcs {
			funcs[i].params = rapid.SliceOfN(rapid.SampledFrom(types), 0, 4).Draw(t, "params")
			funcs[i].results = rapid.SliceOfN(rapid.SampledFrom(types), 0, 1).Draw(t, "results")
			if len(funcs[i].results) == 1 {
				funcs[i].body = resultOf(funcs[i].results[0])
			}
			if rapid.Bool().Draw(t, "exported") {
				funcs[i].export = fmt.Sprintf("f%d", i)
			}
		}
		mem := rapid.IntRange(-1, 10).Draw(t, "memory")
		info, err := Inspect(rawModule(imports, funcs, mem, -1, nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Imports) != len(imports) {
			t.Fatalf("imports %v", info.Imports)
		}
		for i, im := range info.Imports {
			if im.Module != "m" || im.Name != imports[i].name || im.Kind != KindFunc {
				t.Fatalf("import %d: %v", i, im)
			}
		}
		k := 0
		for _, f := range funcs {
			if f.export == "" {
				continue
			}
			e := info.Exports[k]
			k++
			if e.Name != f.export || !slices.Equal(e.Params, f.params) || !slices.Equal(e.Results, f.results) {
				t.Fatalf("export %+v, built %+v", e, f)
			}
		}
		if k != len(info.Exports) || info.HasMemory != (mem >= 0) || (mem >= 0 && info.MemoryMin != uint32(mem)) {
			t.Fatalf("exports %d of %d, memory %v %d (built %d)", k, len(info.Exports), info.HasMemory, info.MemoryMin, mem)
		}
	})
}

// resultOf is a constant of type t.
func resultOf(t ValueType) []byte {
	switch t {
	case I64:
		return []byte{0x42, 0}
	case F32:
		return []byte{0x43, 0, 0, 0, 0}
	case F64:
		return []byte{0x44, 0, 0, 0, 0, 0, 0, 0, 0}
	}
	return i32const(0)
}
