package guest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
)

// MaxDepth bounds the nesting of decoded arguments.
const MaxDepth = 256

var errShort = errors.New("guest: truncated msgpack")

// Decode reads one msgpack value (the whole of b).
func Decode(b []byte) (any, error) {
	d := decoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("guest: %d bytes after the msgpack value", len(d.b))
	}
	return v, nil
}

type decoder struct{ b []byte }

func (d *decoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)) {
		return nil, errShort
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p, nil
}

func (d *decoder) uint(n int) (uint64, error) {
	p, err := d.take(uint64(n))
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

func (d *decoder) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, errors.New("guest: msgpack nested too deeply")
	}
	p, err := d.take(1)
	if err != nil {
		return nil, err
	}
	c := p[0]
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xe0 == 0xa0:
		return d.str(uint64(c & 0x1f))
	case c&0xf0 == 0x90:
		return d.array(uint64(c&0x0f), depth)
	case c&0xf0 == 0x80:
		return d.dict(uint64(c&0x0f), depth)
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		p, err := d.take(n)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), p...), nil
	case 0xca:
		v, err := d.uint(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := d.uint(8)
		return math.Float64frombits(v), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := d.uint(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if v > math.MaxInt64 {
			return v, nil
		}
		return int64(v), nil
	case 0xd0, 0xd1, 0xd2, 0xd3:
		n := 1 << (c - 0xd0)
		v, err := d.uint(n)
		if err != nil {
			return nil, err
		}
		shift := 64 - 8*n
		return int64(v<<shift) >> shift, nil
	case 0xd9, 0xda, 0xdb:
		n, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return d.str(n)
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.array(n, depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.dict(n, depth)
	}
	return nil, fmt.Errorf("guest: unsupported msgpack type 0x%02x", c)
}

func (d *decoder) str(n uint64) (any, error) {
	p, err := d.take(n)
	if err != nil {
		return nil, err
	}
	return string(p), nil
}

func (d *decoder) array(n uint64, depth int) (any, error) {
	if n > uint64(len(d.b)) {
		return nil, errShort
	}
	out := make([]any, n)
	for i := range out {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (d *decoder) dict(n uint64, depth int) (any, error) {
	if 2*n > uint64(len(d.b)) {
		return nil, errShort
	}
	m := make(map[string]any, n)
	var pairs [][2]any
	for i := uint64(0); i < n; i++ {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if ks, ok := k.(string); ok && pairs == nil {
			m[ks] = v
			continue
		}
		if pairs == nil {
			for mk, mv := range m {
				pairs = append(pairs, [2]any{mk, mv})
			}
		}
		pairs = append(pairs, [2]any{k, v})
	}
	if pairs != nil {
		return pairs, nil
	}
	return m, nil
}

// Append writes v as msgpack after b; maps with str keys are written
// in key order, so that a result does not depend on map iteration.
func Append(b []byte, v any) ([]byte, error) { return appendValue(b, v, 0) }

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, errors.New("guest: result nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if x {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int:
		return appendInt(b, int64(x)), nil
	case int32:
		return appendInt(b, int64(x)), nil
	case uint32:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return appendInt(b, int64(x)), nil
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcf), x), nil
	case float32:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(float64(x))), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(x)), nil
	case string:
		return append(appendHead(b, len(x), 0xa0, 0xd9), x...), nil
	case []byte:
		return append(appendHead(b, len(x), 0, 0xc4), x...), nil
	case []any:
		b = appendHead(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []string:
		b = appendHead(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			b = append(appendHead(b, len(e), 0xa0, 0xd9), e...)
		}
		return b, nil
	case []int64:
		b = appendHead(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			b = appendInt(b, e)
		}
		return b, nil
	case []float64:
		b = appendHead(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			b = binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(e))
		}
		return b, nil
	case map[string]any:
		b = appendHead(b, len(x), 0x80, 0xde)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = append(appendHead(b, len(k), 0xa0, 0xd9), k...)
			var err error
			if b, err = appendValue(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]int64:
		b = appendHead(b, len(x), 0x80, 0xde)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b = appendInt(append(appendHead(b, len(k), 0xa0, 0xd9), k...), x[k])
		}
		return b, nil
	case [][2]any:
		b = appendHead(b, len(x), 0x80, 0xde)
		for _, kv := range x {
			var err error
			if b, err = appendValue(b, kv[0], depth+1); err != nil {
				return nil, err
			}
			if b, err = appendValue(b, kv[1], depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("guest: cannot encode a %T", v)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 0x7f:
		return append(b, byte(v))
	case v < 0 && v >= -32:
		return append(b, byte(int8(v)))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

// appendHead writes a str (fix 0xa0, first 0xd9), bin (fix 0, first
// 0xc4), array (fix 0x90, first 0xdc) or map (fix 0x80, first 0xde)
// header.
func appendHead(b []byte, n int, fix, first byte) []byte {
	fixMax := 15
	if fix == 0xa0 {
		fixMax = 31
	}
	switch {
	case fix != 0 && n <= fixMax:
		return append(b, fix|byte(n))
	case first == 0xd9 || first == 0xc4:
		if n <= 0xff {
			return append(b, first, byte(n))
		}
		if n <= 0xffff {
			return binary.BigEndian.AppendUint16(append(b, first+1), uint16(n))
		}
		return binary.BigEndian.AppendUint32(append(b, first+2), uint32(n))
	}
	if n <= 0xffff {
		return binary.BigEndian.AppendUint16(append(b, first), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, first+1), uint32(n))
}
