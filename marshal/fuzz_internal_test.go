package marshal

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// fuzzDecoder keeps re-encoding cheap: references may expand a small input
// up to MaxItems elements and MaxStringLen bytes.
var fuzzDecoder = Decoder{Limits: py.Limits{MaxItems: 20_000, MaxStringLen: 1 << 16, MaxIntDigits: 1000}}

// FuzzDecode checks that decoding never panics, fails only with syntax or
// limit errors, and that what it accepts re-encodes to a value that
// decodes to the same thing (and to the same bytes again).
func FuzzDecode(f *testing.F) {
	for _, c := range wireDumps {
		f.Add(unhex(f, c.hex))
	}
	for _, c := range hostileCases() {
		if len(c.data) < 1000 {
			f.Add(c.data)
		}
	}
	f.Add(billionLaughs(4, "N"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := fuzzDecoder.Decode(data)
		if err != nil {
			if !errors.Is(err, py.ErrSyntax) && !errors.Is(err, py.ErrLimit) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if v != nil {
				t.Fatalf("value with error")
			}
			return
		}
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("re-encode %s: %v", py.Repr(v), err)
		}
		v2, err := fuzzDecoder.Decode(b)
		if err != nil {
			t.Fatalf("decode of re-encoded %x: %v", b, err)
		}
		b2, err := Marshal(v2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("second encoding differs: %x vs %x (%v)", b, b2, err)
		}
		if !hasNaNKey(v) && !py.Same(v, v2) {
			t.Fatalf("round trip changed %s into %s", py.Repr(v), py.Repr(v2))
		}
	})
}

// hasNaNKey reports a NaN dict key or set member anywhere in v: NaN is
// never equal to itself, so py.Same cannot find it in the other value.
func hasNaNKey(v any) bool {
	isNaN := func(k any) bool {
		switch x := k.(type) {
		case float64:
			return math.IsNaN(x)
		case complex128:
			return math.IsNaN(real(x)) || math.IsNaN(imag(x))
		case py.Tuple, *py.Set:
			return hasNaNKey(x) || containsNaN(x)
		}
		return false
	}
	switch x := v.(type) {
	case py.Tuple:
		for _, e := range x {
			if hasNaNKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNaNKey(e) {
				return true
			}
		}
	case *py.Dict:
		for k, e := range x.All() {
			if isNaN(k) || hasNaNKey(e) {
				return true
			}
		}
	case *py.Set:
		for _, e := range x.Items() {
			if isNaN(e) {
				return true
			}
		}
	}
	return false
}

func containsNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case complex128:
		return math.IsNaN(real(x)) || math.IsNaN(imag(x))
	case py.Tuple:
		for _, e := range x {
			if containsNaN(e) {
				return true
			}
		}
	case *py.Set:
		for _, e := range x.Items() {
			if containsNaN(e) {
				return true
			}
		}
	}
	return false
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzDecode from the
// Python corpus when MARSHAL_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("MARSHAL_WRITE_SEEDS") == "" {
		t.Skip("set MARSHAL_WRITE_SEEDS=1 to regenerate the fuzz seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range wireDumps {
		write("wire-"+strconv.Itoa(i), unhex(t, c.hex))
	}
	for _, e := range loadCorpus(t) {
		if len(e.Data) > 4000 {
			continue
		}
		write("python-"+e.Name, unhex(t, e.Data))
	}
}
