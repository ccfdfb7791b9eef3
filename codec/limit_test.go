package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// sharedValue is a list holding n times the same string of size bytes: a
// value that costs size bytes of memory but n×size when written out.
func sharedValue(n, size int) []any {
	s := strings.Repeat("x", size)
	l := make([]any, n)
	for i := range l {
		l[i] = s
	}
	return l
}

// TestEncodeLimitStops: an encoder given a size limit stops with
// py.ErrTooLarge near the limit instead of building a value that expands
// to 100 MB, and allocates a small multiple of the limit.
func TestEncodeLimitStops(t *testing.T) {
	v := sharedValue(1000, 100_000) // 100 MB written out
	for _, id := range supportedIDs {
		cd := codec.Default(id)
		t.Run(cd.Name(), func(t *testing.T) {
			before := totalAlloc()
			out, err := cd.AppendMarshalLimit(nil, v, &py.SizeLimit{Max: 1 << 20})
			allocated := totalAlloc() - before
			var se *py.SizeError
			if !errors.Is(err, py.ErrTooLarge) || !errors.As(err, &se) || se.Max != 1<<20 || se.Format == "" {
				t.Fatalf("err %v", err)
			}
			if len(out) != 0 {
				t.Errorf("returned %d bytes with the error", len(out))
			}
			if allocated > 8<<20 {
				t.Errorf("allocated %d bytes to stop at 1 MiB", allocated)
			}
		})
	}
}

// TestEncodeLimitExact: a limit equal to the encoded size passes, one
// byte less fails, and a limited encoding is byte for byte the unlimited
// one.
func TestEncodeLimitExact(t *testing.T) {
	values := []any{
		strings.Repeat("a", 70_000),
		[]any{strings.Repeat("é", 40_000), int64(7), 1.5, py.Tuple{"x", nil}},
		py.DictOf("k", sharedValue(50, 3000)),
	}
	for _, id := range supportedIDs {
		cd := codec.Default(id)
		for i, v := range values {
			want, err := cd.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cd.AppendMarshalLimit([]byte("pre"), v, &py.SizeLimit{Max: len(want)})
			if err != nil || !bytes.Equal(got[3:], want) || string(got[:3]) != "pre" {
				t.Errorf("%s value %d at its exact size: %v", cd.Name(), i, err)
			}
			if i == 0 { // a single string: the check before it is exact
				if _, err := cd.AppendMarshalLimit(nil, v, &py.SizeLimit{Max: len(want) - 1}); !errors.Is(err, py.ErrTooLarge) {
					t.Errorf("%s value %d one byte under: %v", cd.Name(), i, err)
				}
			}
			if _, err := cd.AppendMarshalLimit(nil, v, &py.SizeLimit{Max: len(want) / 2}); !errors.Is(err, py.ErrTooLarge) {
				t.Errorf("%s value %d at half its size: %v", cd.Name(), i, err)
			}
		}
	}
}

// TestEncodeLimitGrow: Grow is asked for room as the output grows, the
// buffer holds what was granted, the output is unchanged, and a refusal
// is returned as Grow's own error.
func TestEncodeLimitGrow(t *testing.T) {
	v := sharedValue(300, 10_000) // 3 MB
	errNoRoom := errors.New("no room")
	for _, id := range supportedIDs {
		cd := codec.Default(id)
		want, _ := cd.Marshal(v)
		var needs []int
		granted := 0
		lim := &py.SizeLimit{Max: 4096, Grow: func(need int) (int, error) {
			needs = append(needs, need)
			granted = max(need, 2*granted, 4096)
			return granted, nil
		}}
		got, err := cd.AppendMarshalLimit(nil, v, lim)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %v", cd.Name(), err)
		}
		if len(needs) < 5 || len(needs) > 20 || lim.Max != granted {
			t.Errorf("%s: Grow asked %d times (%v), Max %d, granted %d", cd.Name(), len(needs), needs, lim.Max, granted)
		}
		if cap(got) > granted+granted/8 {
			t.Errorf("%s: buffer of %d bytes for %d granted", cd.Name(), cap(got), granted)
		}
		refuse := &py.SizeLimit{Max: 100, Grow: func(int) (int, error) { return 0, errNoRoom }}
		if _, err := cd.AppendMarshalLimit(nil, v, refuse); err != errNoRoom {
			t.Errorf("%s: refusal gave %v", cd.Name(), err)
		}
		stingy := &py.SizeLimit{Max: 100, Grow: func(need int) (int, error) { return need - 1, nil }}
		if _, err := cd.AppendMarshalLimit(nil, v, stingy); !errors.Is(err, py.ErrTooLarge) {
			t.Errorf("%s: a grant below the need gave %v", cd.Name(), err)
		}
	}
}

// marshalRefBomb is marshal data of about 5×n bytes: a list of n
// back-references to one str of size bytes (CPython writes such data
// for a list holding the same object n times).
func marshalRefBomb(n, size int) []byte {
	b := []byte{'['}
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, 'a'|0x80) // FLAG_REF: this str is reference 0
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = append(b, strings.Repeat("y", size)...)
	for i := 1; i < n; i++ {
		b = append(b, 'r', 0, 0, 0, 0)
	}
	return b
}

// TestMarshalBackReferenceBomb: a 1.25 MB marshal payload whose
// references expand to 250 MB decodes (references stay shared), but
// writing it back stops at the limit: the weakness that made a 1 MB
// request echo as a 262 MB reply.
func TestMarshalBackReferenceBomb(t *testing.T) {
	data := marshalRefBomb(250_000, 1000)
	cd := codec.Default(codec.IDMarshal)
	v, err := cd.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range supportedIDs {
		enc := codec.Default(id)
		before := totalAlloc()
		_, err := enc.AppendMarshalLimit(nil, v, &py.SizeLimit{Max: 8 << 20})
		allocated := totalAlloc() - before
		if !errors.Is(err, py.ErrTooLarge) {
			t.Errorf("%s: %v", enc.Name(), err)
		}
		if allocated > 64<<20 {
			t.Errorf("%s: allocated %d bytes to refuse a 250 MB expansion at 8 MiB", enc.Name(), allocated)
		}
	}
}
