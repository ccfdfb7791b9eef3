package mobile

import (
	"encoding/base64"
	"math"
	"math/big"

	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/py"
)

// resultLimits bound what a module's result may decode to (its size is
// bounded before by WithMaxResultSize).
var resultLimits = py.Limits{MaxDepth: 256, MaxItems: 1_000_000}

// serpentBytes recognises the form in which Pyro's serpent serializer
// sends bytes ({"data": base64 text, "encoding": "base64"}) and returns
// the bytes.
func serpentBytes(d *py.Dict) ([]byte, bool) {
	if d.Len() != 2 {
		return nil, false
	}
	enc, ok1 := d.GetString("encoding")
	data, ok2 := d.GetString("data")
	s, ok3 := data.(string)
	if !ok1 || !ok2 || !ok3 || enc != "base64" {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	return b, true
}

// bytesArg accepts bytes as the client's serializer delivered them.
func bytesArg(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case *py.Dict:
		return serpentBytes(x)
	}
	return nil, false
}

// unserpent replaces serpent's bytes dicts by bytes, in place where it
// can, so that a module sees bytes whatever serializer the client used.
// depth is bounded by the decoder that built v.
func unserpent(v any) any {
	switch x := v.(type) {
	case *py.Dict:
		if b, ok := serpentBytes(x); ok {
			return b
		}
		out := py.NewDict(x.Len())
		for k, e := range x.All() {
			if err := out.Set(k, unserpent(e)); err != nil {
				return v
			}
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = unserpent(e)
		}
		return x
	case py.Tuple:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = unserpent(e)
		}
		return l
	}
	return v
}

// encodeArgs serializes a value function's argument list.
func encodeArgs(args []any) ([]byte, error) {
	l := make([]any, len(args))
	for i, a := range args {
		l[i] = unserpent(a)
	}
	var enc pymsgpack.Encoder
	b, err := enc.Append(nil, l)
	if err != nil {
		return nil, newErr(ErrInvalid, err, "arguments cannot be passed to a module: %v", err)
	}
	return b, nil
}

// decodeResult reads a value function's result.
func decodeResult(b []byte) (any, error) {
	dec := pymsgpack.Decoder{Limits: resultLimits}
	v, err := dec.Decode(b)
	if err != nil {
		return nil, newErr(ErrTrap, err, "module returned a malformed result: %v", err)
	}
	return v, nil
}

// numberArg converts argument i of a numeric function to a wasm value.
func numberArg(fn string, i int, t ValueType, v any) (uint64, error) {
	bad := func() error {
		return invalidf("argument %d of %s must be %s, not %s", i+1, fn, numberWant(t), py.TypeName(v))
	}
	var iv int64
	isInt := false
	switch x := v.(type) {
	case bool:
		return 0, bad()
	case int64:
		iv, isInt = x, true
	case int:
		iv, isInt = int64(x), true
	case *big.Int:
		if t == I64 && x.Sign() > 0 && x.IsUint64() {
			return x.Uint64(), nil
		}
		if t == F32 || t == F64 {
			f, _ := new(big.Float).SetInt(x).Float64()
			return floatBits(t, f), nil
		}
		return 0, invalidf("argument %d of %s is out of range for %s", i+1, fn, t)
	case float64:
		if t == F32 || t == F64 {
			return floatBits(t, x), nil
		}
		return 0, bad()
	default:
		return 0, bad()
	}
	switch t {
	case I32:
		if !isInt || iv < math.MinInt32 || iv > math.MaxUint32 {
			return 0, invalidf("argument %d of %s is out of range for i32", i+1, fn)
		}
		return uint64(uint32(iv)), nil
	case I64:
		return uint64(iv), nil
	case F32, F64:
		return floatBits(t, float64(iv)), nil
	}
	return 0, bad()
}

func numberWant(t ValueType) string {
	if t == F32 || t == F64 {
		return "a number (" + t.String() + ")"
	}
	return "an int (" + t.String() + ")"
}

func floatBits(t ValueType, f float64) uint64 {
	if t == F32 {
		return uint64(math.Float32bits(float32(f)))
	}
	return math.Float64bits(f)
}

// numberResult converts a wasm result to a Python number.
func numberResult(t ValueType, v uint64) any {
	switch t {
	case I32:
		return int64(int32(uint32(v)))
	case I64:
		return int64(v)
	case F32:
		return float64(math.Float32frombits(uint32(v)))
	case F64:
		return math.Float64frombits(v)
	}
	return nil
}
