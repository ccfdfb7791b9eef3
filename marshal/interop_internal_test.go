package marshal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/py"
)

// The interop tests run the real CPython marshal (Debian's python3 with
// python3-pyro4) through testdata/interop.py: one process dumps a corpus,
// one checks what Go encoded.
const pythonBin = "/usr/bin/python3"

type corpusEntry struct {
	Name   string `json:"name"`
	Data   string `json:"data"`
	Tagged any    `json:"tagged"`
}

var (
	corpusOnce sync.Once
	corpus     []corpusEntry
	corpusErr  error
	corpusSkip string
)

// runPython runs interop.py in the given mode with stdin; a missing
// interpreter or module becomes a skip reason.
func runPython(mode string, stdin []byte) (out []byte, skip string, err error) {
	if _, err := os.Stat(pythonBin); err != nil {
		return nil, pythonBin + " not found", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonBin, "testdata/interop.py", mode)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		return nil, "python: " + strings.TrimSpace(stderr.String()) + " (install python3-pyro4)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("interop.py %s: %v\n%s", mode, err, stderr.String())
	}
	return out, "", nil
}

func skipOrFatal(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("interop test cannot run under CI: %s", reason)
	}
	t.Skipf("skipping interop test: %s", reason)
}

func loadCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	corpusOnce.Do(func() {
		out, skip, err := runPython("dump", nil)
		if skip != "" || err != nil {
			corpusSkip, corpusErr = skip, err
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var e corpusEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				corpusErr = err
				return
			}
			corpus = append(corpus, e)
		}
	})
	if corpusSkip != "" {
		skipOrFatal(t, corpusSkip)
	}
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpus
}

// TestInteropDecode decodes CPython's marshal.dumps (and Pyro4's
// MarshalSerializer) output of a broad corpus, FLAG_REF and 'r' included.
func TestInteropDecode(t *testing.T) {
	entries := loadCorpus(t)
	if len(entries) < 50 {
		t.Fatalf("corpus has only %d entries", len(entries))
	}
	refs := 0
	for _, e := range entries {
		data, err := hex.DecodeString(e.Data)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fromTagged(e.Tagged)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		got, err := Unmarshal(data)
		if err != nil {
			t.Errorf("%s: decode %x: %v", e.Name, data, err)
			continue
		}
		if !py.Same(got, want) {
			t.Errorf("%s: decoded %s, want %s", e.Name, py.Repr(got), py.Repr(want))
		}
		if bytes.Contains(data, []byte{'r'}) && strings.HasPrefix(e.Name, "ref-") {
			refs++
		}
	}
	if refs == 0 {
		t.Error("corpus exercised no 'r' references")
	}
}

// TestInteropEncode encodes the corpus and random values in Go; Python
// loads them, compares them with its own values and compares the bytes
// with CPython's (FLAG_REF stripped) where CPython wrote no reference.
func TestInteropEncode(t *testing.T) {
	entries := loadCorpus(t)
	var in bytes.Buffer
	var names []string
	enc := json.NewEncoder(&in)
	for _, e := range entries {
		v, err := fromTagged(e.Tagged)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		data, err := Marshal(v)
		if err != nil {
			t.Fatalf("%s: encode: %v", e.Name, err)
		}
		_ = enc.Encode(map[string]any{"name": e.Name, "data": hex.EncodeToString(data)})
		names = append(names, e.Name)
	}
	gen := valueGen(4)
	for seed := 0; seed < 300; seed++ {
		v := gen.Example(seed)
		data, err := Marshal(v)
		if err != nil {
			t.Fatalf("random %d: encode %s: %v", seed, py.Repr(v), err)
		}
		_ = enc.Encode(map[string]any{"tagged": toTagged(v), "data": hex.EncodeToString(data)})
		names = append(names, "random "+strconv.Itoa(seed)+": "+py.Repr(v))
	}
	out, skip, err := runPython("check", in.Bytes())
	if skip != "" {
		skipOrFatal(t, skip)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r struct {
			I   int    `json:"i"`
			OK  bool   `json:"ok"`
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Errorf("%s: %s", names[r.I], r.Msg)
		}
		n++
	}
	if n != len(names) {
		t.Fatalf("python answered %d of %d values", n, len(names))
	}
}

// fromTagged builds a model value from interop.py's tagged JSON form.
func fromTagged(x any) (any, error) {
	a, ok := x.([]any)
	if !ok || len(a) == 0 {
		return nil, fmt.Errorf("bad tagged value %v", x)
	}
	kind, _ := a[0].(string)
	str := func(i int) string {
		if i < len(a) {
			s, _ := a[i].(string)
			return s
		}
		return ""
	}
	fbits := func(h string) (float64, error) {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 8 {
			return 0, fmt.Errorf("bad float bits %q", h)
		}
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return math.Float64frombits(u), nil
	}
	list := func() ([]any, error) {
		var elems []any
		if len(a) > 1 {
			elems, _ = a[1].([]any)
		}
		out := make([]any, len(elems))
		for i, e := range elems {
			v, err := fromTagged(e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	switch kind {
	case "none":
		return nil, nil
	case "stopiter":
		return StopIteration, nil
	case "ellipsis":
		return Ellipsis, nil
	case "bool":
		b, _ := a[1].(bool)
		return b, nil
	case "int":
		b, ok := new(big.Int).SetString(str(1), 16)
		if !ok {
			return nil, fmt.Errorf("bad int %q", str(1))
		}
		return py.NormalizeInt(b), nil
	case "float":
		return fbits(str(1))
	case "complex":
		re, err := fbits(str(1))
		if err != nil {
			return nil, err
		}
		im, err := fbits(str(2))
		return complex(re, im), err
	case "str":
		b, err := hex.DecodeString(str(1))
		return string(b), err
	case "bytes":
		b, err := hex.DecodeString(str(1))
		if b == nil {
			b = []byte{}
		}
		return b, err
	case "tuple":
		l, err := list()
		return py.Tuple(l), err
	case "list":
		return list()
	case "set", "frozenset":
		l, err := list()
		if err != nil {
			return nil, err
		}
		s := py.NewSet(len(l), kind == "frozenset")
		for _, e := range l {
			if err := s.Add(e); err != nil {
				return nil, err
			}
		}
		return s, nil
	case "dict":
		pairs, _ := a[1].([]any)
		d := py.NewDict(len(pairs))
		for _, p := range pairs {
			kv, _ := p.([]any)
			if len(kv) != 2 {
				return nil, fmt.Errorf("bad dict pair %v", p)
			}
			k, err := fromTagged(kv[0])
			if err != nil {
				return nil, err
			}
			v, err := fromTagged(kv[1])
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown tag %q", kind)
}

// toTagged is the inverse of fromTagged.
func toTagged(v any) any {
	fb := func(f float64) string {
		u := math.Float64bits(f)
		var b [8]byte
		for i := range b {
			b[i] = byte(u >> (8 * i))
		}
		return hex.EncodeToString(b[:])
	}
	seq := func(kind string, items []any) any {
		out := make([]any, len(items))
		for i, e := range items {
			out[i] = toTagged(e)
		}
		return []any{kind, out}
	}
	switch x := v.(type) {
	case nil:
		return []any{"none"}
	case bool:
		return []any{"bool", x}
	case int64:
		return []any{"int", big.NewInt(x).Text(16)}
	case *big.Int:
		return []any{"int", x.Text(16)}
	case float64:
		return []any{"float", fb(x)}
	case complex128:
		return []any{"complex", fb(real(x)), fb(imag(x))}
	case string:
		return []any{"str", hex.EncodeToString([]byte(x))}
	case []byte:
		return []any{"bytes", hex.EncodeToString(x)}
	case py.Tuple:
		return seq("tuple", x)
	case []any:
		return seq("list", x)
	case *py.Set:
		if x.Frozen {
			return seq("frozenset", x.Items())
		}
		return seq("set", x.Items())
	case *py.Dict:
		pairs := make([]any, 0, x.Len())
		for k, val := range x.All() {
			pairs = append(pairs, []any{toTagged(k), toTagged(val)})
		}
		return []any{"dict", pairs}
	case Singleton:
		if x == StopIteration {
			return []any{"stopiter"}
		}
		return []any{"ellipsis"}
	}
	panic(fmt.Sprintf("toTagged: %T", v))
}
