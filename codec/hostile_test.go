package codec_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/pyrogo/pyro/internal/testbound"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// Bounds every hostile input must respect, per codec and entry point.
// Decoding each takes a few milliseconds at most; the time bound leaves
// room for a loaded machine, and ten times more under the race detector.
const (
	hostileMaxTime  = 2 * time.Second
	hostileMaxAlloc = 64 << 20
)

func hostileTimeBound() time.Duration { return testbound.Scale(hostileMaxTime) }

// Pickle payloads a malicious peer might send under any serializer id.
var (
	// The classic protocol-0 pickle that runs os.system('touch /tmp/x').
	pickleClassic = []byte("cos\nsystem\n(S'touch /tmp/x'\ntR.")
	// pickle.dumps(E(), protocol=4) for a class E whose __reduce__
	// returns (os.system, ('touch /tmp/x',)), made by CPython 3.11.
	pickleReduce4 = mustHex("80049527000000000000008c05706f736978948c0673797374656d9493948c0c746f756368202f746d702f7894859452942e")
	// pickle.dumps(os.system, protocol=4).
	pickleSystem4 = mustHex("80049514000000000000008c05706f736978948c0673797374656d9493942e")
	// The same reduce pickle with protocol 2.
	pickleReduce2 = mustHex("800263706f7369780a73797374656d0a7100580c000000746f756368202f746d702f7871018571025271032e")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func le32(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }
func be32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

const serpentHdr = "# serpent utf-8 python3.2\n"

// hostileInput is one hostile payload. valid names the codecs (by name,
// comma separated) for which it is in fact legal input that Python reads
// too; those may decode it, but within the same time and memory bounds.
type hostileInput struct {
	name  string
	data  []byte
	valid string
}

// hostileInputs are malformed or malicious payloads. Each is fed to every
// codec (Unmarshal and UnmarshalCall), whatever format it was made for.
func hostileInputs() []hostileInput {
	const deep = 1_000_000
	ten := bytes.Repeat([]byte{'A'}, 10)
	okCall, _ := mustCodec("marshal").MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{"abc", int64(1)}, Kwargs: py.NewDict(0)})
	okMsgpack, _ := mustCodec("msgpack").MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{"abc", 1.5}, Kwargs: py.NewDict(0)})
	okJSON, _ := mustCodec("json").MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{"abc"}, Kwargs: py.NewDict(0)})
	okSerpent, _ := mustCodec("serpent").MarshalCall(&codec.Call{Object: "o", Method: "m", Args: []any{"abc"}, Kwargs: py.NewDict(0)})

	// marshal "billion laughs": a tuple of 31 lists, each (after the
	// first) holding ten references to the previous one: 10^30 elements
	// once expanded, in 500 bytes.
	laughs := cat([]byte{'('}, le32(31), []byte{'[' | 0x80}, le32(1), []byte{'N'})
	for i := 1; i <= 30; i++ {
		laughs = append(laughs, '['|0x80)
		laughs = append(laughs, le32(10)...)
		for range 10 {
			laughs = append(laughs, 'r')
			laughs = append(laughs, le32(uint32(i-1))...)
		}
	}

	return []hostileInput{
		{"empty", nil, ""},
		{"one byte", []byte{0xa5}, ""},
		{"truncated serpent call", okSerpent[:len(okSerpent)-3], ""},
		{"truncated json call", okJSON[:len(okJSON)/2], ""},
		{"truncated marshal call", okCall[:len(okCall)-2], ""},
		{"truncated msgpack call", okMsgpack[:len(okMsgpack)-4], ""},
		{"serpent header only", []byte(serpentHdr), ""},
		{"serpent 1e6 [", []byte(serpentHdr + strings.Repeat("[", deep)), ""},
		{"serpent 1e6 (", []byte(serpentHdr + strings.Repeat("(", deep) + strings.Repeat(")", deep)), ""},
		{"serpent 1e6 {", []byte(serpentHdr + strings.Repeat("{", deep)), ""},
		{"serpent 1e6 unary minus", []byte(serpentHdr + strings.Repeat("-", deep) + "1"), ""},
		{"json 1e6 [", bytes.Repeat([]byte("["), deep), ""},
		{"json 1e6 [] closed", []byte(strings.Repeat("[", deep) + strings.Repeat("]", deep)), ""},
		{"json 1e6 {", bytes.Repeat([]byte(`{"a":`), deep), ""},
		{"marshal 1e6 lists", bytes.Repeat(cat([]byte{'['}, le32(1)), deep), ""},
		{"marshal 1e6 small tuples", bytes.Repeat([]byte{')', 1}, deep), ""},
		{"marshal 1e6 dicts", bytes.Repeat([]byte{'{', 'N'}, deep), ""},
		{"msgpack 1e6 fixarray", bytes.Repeat([]byte{0x91}, deep), ""},
		{"msgpack 1e6 fixmap", bytes.Repeat([]byte{0x81, 0xc0}, deep), ""},
		{"marshal list count 2^31-1", cat([]byte{'['}, le32(1<<31-1), ten), ""},
		{"marshal list count 2^31", cat([]byte{'['}, le32(1<<31), ten), ""},
		{"marshal tuple count 2^31-1", cat([]byte{'('}, le32(1<<31-1), ten), ""},
		{"marshal set count 2^31-1", cat([]byte{'<'}, le32(1<<31-1), ten), ""},
		{"marshal bytes len 2^31-1", cat([]byte{'s'}, le32(1<<31-1), ten), ""},
		{"marshal str len 2^31-1", cat([]byte{'u'}, le32(1<<31-1), ten), ""},
		{"marshal long digits 2^31-1", cat([]byte{'l'}, le32(1<<31-1), ten), ""},
		{"marshal long digits -2^31", cat([]byte{'l'}, le32(1<<31), ten), ""},
		{"msgpack array32 2^31", cat([]byte{0xdd}, be32(1<<31), ten), ""},
		{"msgpack array32 2^32-1", cat([]byte{0xdd}, be32(1<<32-1), ten), ""},
		{"msgpack map32 2^31", cat([]byte{0xdf}, be32(1<<31), ten), ""},
		{"msgpack str32 2^31", cat([]byte{0xdb}, be32(1<<31), ten), ""},
		{"msgpack bin32 2^31", cat([]byte{0xc6}, be32(1<<31), ten), ""},
		{"msgpack ext32 2^31", cat([]byte{0xc9}, be32(1<<31), []byte{0x31}, ten), ""},
		{"serpent invalid utf-8", []byte(serpentHdr + "('o','m',('\xff\xfe',),{})"), ""},
		{"serpent overlong utf-8", []byte(serpentHdr + "('o','\xc0\xaf',(),{})"), ""},
		{"serpent surrogate utf-8", []byte(serpentHdr + "('o','\xed\xa0\x80',(),{})"), ""},
		{"json invalid utf-8", []byte("{\"object\": \"o\", \"method\": \"\xff\", \"params\": [], \"kwargs\": {}}"), ""},
		{"json lone surrogate escape", []byte(`{"object": "o", "method": "\ud800", "params": [], "kwargs": {}}`), ""},
		{"marshal invalid utf-8", cat([]byte{')', 4, 'u'}, le32(2), []byte("\xff\xfe"), []byte{'z', 1, 'm', '[', 0, 0, 0, 0, '{', '0'}), ""},
		{"msgpack invalid utf-8", []byte("\x94\xa2\xff\xfe\xa1m\x90\x80"), ""},
		{"serpent NUL", []byte(serpentHdr + "('o','m\x00',(),{})"), ""},
		{"serpent NUL after value", []byte(serpentHdr + "('o','m',(),{})\x00"), ""},
		{"serpent code", []byte(serpentHdr + "__import__('os').system('touch /tmp/x')"), ""},
		{"serpent lambda", []byte(serpentHdr + "(lambda: 1)()"), ""},
		{"marshal code object", cat([]byte{'c'}, bytes.Repeat([]byte{0}, 40)), ""},
		{"marshal unknown code ?", []byte("?\x00"), ""},
		{"marshal unknown code in tuple", []byte(")\x02N\x01"), ""},
		{"marshal ref out of range", cat([]byte{'r'}, le32(5)), ""},
		{"marshal ref negative", cat([]byte{'r'}, le32(1<<32-1)), ""},
		{"marshal ref cycle", cat([]byte{')' | 0x80, 1, 'r'}, le32(0)), ""},
		{"marshal billion laughs", laughs, ""},
		{"marshal dict without terminator", []byte("{z\x01aN"), ""},
		{"serpent int 1e6 digits", []byte(serpentHdr + strings.Repeat("7", deep)), ""},
		{"serpent hex int 1e6 digits", []byte(serpentHdr + "0x" + strings.Repeat("f", deep)), ""},
		{"serpent float 1e6 digits", []byte(serpentHdr + "0." + strings.Repeat("1", deep)), "serpent"},
		{"json int 1e6 digits", []byte(strings.Repeat("9", deep)), ""},
		{"json exponent huge", []byte("1e99999999999999999999"), "serpent,json"},
		{"marshal long 1e6 digits", cat([]byte{'l'}, le32(deep), bytes.Repeat([]byte{0xff, 0x7f}, deep)), ""},
		{"msgpack bigint ext 1e6 digits", cat([]byte{0xc9}, be32(deep), []byte{0x31}, bytes.Repeat([]byte("7"), deep)), ""},
		{"msgpack bigint ext garbage", []byte("\xc7\x03\x311x2"), ""},
		{"msgpack unknown ext", []byte("\xd4\x7f\x00"), ""},
		{"msgpack complex ext short", []byte("\xd6\x30\x00\x00\x00\x00"), ""},
		{"msgpack reserved c1", []byte{0xc1}, ""},
		{"msgpack trailing data", append(append([]byte{}, okMsgpack...), 0xc0), ""},
		{"pickle classic", pickleClassic, ""},
		{"pickle protocol 4 reduce", pickleReduce4, ""},
		{"pickle protocol 4 os.system", pickleSystem4, ""},
		{"pickle protocol 2 reduce", pickleReduce2, ""},
	}
}

// decodeGuarded runs f, turning a panic into a test failure, and reports
// its duration and the bytes allocated meanwhile.
func decodeGuarded(t *testing.T, label string, f func() (any, error)) (v any, d time.Duration, alloc uint64, err error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s: panic: %v", label, p)
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		v, err = f()
	}()
	d = time.Since(start)
	runtime.ReadMemStats(&after)
	return v, d, after.TotalAlloc - before.TotalAlloc, err
}

// cleanError reports whether err is one of the errors a caller can
// classify: malformed input, a limit, a call shape or a class error.
func cleanError(err error) bool {
	var ce *codec.ClassError
	return errors.Is(err, py.ErrSyntax) || errors.Is(err, py.ErrLimit) || errors.Is(err, codec.ErrCallShape) ||
		errors.As(err, &ce)
}

func TestHostileInputs(t *testing.T) {
	inputs := hostileInputs()
	if len(inputs) < 20 {
		t.Fatalf("only %d hostile inputs", len(inputs))
	}
	var codecs []codec.Codec
	for _, id := range supportedIDs {
		codecs = append(codecs, codec.Default(id))
	}
	checkHostile(t, inputs, codecs)
}

// checkHostile feeds every input to Unmarshal and UnmarshalCall of every
// codec: each must fail cleanly (or decode, where the input is valid for
// that codec) within the time and allocation bounds.
func checkHostile(t *testing.T, inputs []hostileInput, codecs []codec.Codec) {
	t.Helper()
	var worstTime time.Duration
	var worstAlloc uint64
	var worstTimeName, worstAllocName string
	for _, in := range inputs {
		for _, c := range codecs {
			for _, entry := range []string{"Unmarshal", "UnmarshalCall"} {
				label := fmt.Sprintf("%s/%s/%s", in.name, c.Name(), entry)
				v, d, alloc, err := decodeGuarded(t, label, func() (any, error) {
					if entry == "Unmarshal" {
						return c.Unmarshal(in.data)
					}
					return c.UnmarshalCall(in.data)
				})
				if err == nil {
					if !slices.Contains(strings.Split(in.valid, ","), c.Name()) {
						t.Errorf("%s: decoded %s, want an error", label, describe(v))
					}
				} else if !cleanError(err) {
					t.Errorf("%s: error %q (%T) matches neither py.ErrSyntax, py.ErrLimit, codec.ErrCallShape nor *codec.ClassError", label, err, err)
				}
				if d > hostileTimeBound() {
					t.Errorf("%s: took %v (bound %v)", label, d, hostileTimeBound())
				}
				if alloc > hostileMaxAlloc {
					t.Errorf("%s: allocated %d MiB (bound %d MiB)", label, alloc>>20, hostileMaxAlloc>>20)
				}
				if d > worstTime {
					worstTime, worstTimeName = d, label
				}
				if alloc > worstAlloc {
					worstAlloc, worstAllocName = alloc, label
				}
				if testing.Verbose() && err != nil && len(err.Error()) > 0 {
					t.Logf("%s: %v [%v, %d KiB]", label, truncate(err.Error(), 120), d.Round(time.Microsecond), alloc>>10)
				}
			}
		}
	}
	t.Logf("%d inputs × %d codecs × 2 entry points; slowest %v (%s), most allocation %d KiB (%s)",
		len(inputs), len(codecs), worstTime.Round(time.Microsecond), worstTimeName, worstAlloc>>10, worstAllocName)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
