package codec_test

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// supportedIDs are the serializer ids codec implements, in Pyro's order.
var supportedIDs = []int{codec.IDSerpent, codec.IDJSON, codec.IDMarshal, codec.IDMsgpack}

// mustCodec returns the codec with default limits for a serializer name,
// made by ForID as a server does with the id of a message header.
func mustCodec(name string) codec.Codec {
	id, ok := codec.IDOf(name)
	if !ok {
		panic("unknown serializer " + name)
	}
	c, err := codec.ForID(id, codec.Options{})
	if err != nil {
		panic(err)
	}
	return c
}

// same extends py.Same to the values class restoration produces: URIs
// compare with uri.URI.Equal, proxies field by field (name lists as sets,
// since Python writes them in set order), exception wrappers by their
// exception. Containers are compared element by element with same.
func same(want, got any) bool {
	switch w := want.(type) {
	case time.Time:
		// The same instant in the same zone (py.Same has no times).
		g, ok := got.(time.Time)
		return ok && w.Equal(g) && w.Location().String() == g.Location().String()
	case uri.URI:
		g, ok := got.(uri.URI)
		return ok && w.Equal(g)
	case *codec.ProxyRef:
		g, ok := got.(*codec.ProxyRef)
		return ok && sameProxy(w, g)
	case *codec.ExceptionWrapper:
		g, ok := got.(*codec.ExceptionWrapper)
		return ok && same(w.Exception, g.Exception)
	case *py.Exception:
		g, ok := got.(*py.Exception)
		if !ok || w.Class != g.Class || !sameSeq(w.Args, g.Args) {
			return false
		}
		wa, ga := w.Attributes, g.Attributes
		if wa == nil {
			wa = py.NewDict(0)
		}
		if ga == nil {
			ga = py.NewDict(0)
		}
		return same(wa, ga)
	case py.Tuple:
		g, ok := got.(py.Tuple)
		return ok && sameSeq(w, g)
	case []any:
		g, ok := got.([]any)
		return ok && sameSeq(w, g)
	case *py.Dict:
		g, ok := got.(*py.Dict)
		if !ok || w.Len() != g.Len() {
			return false
		}
		for k, v := range w.All() {
			gv, found := g.Get(k)
			if !found || !same(v, gv) {
				return false
			}
		}
		// Python keeps the key object that was inserted first; a decoded
		// dict must have keys of the same types, not merely equal ones.
		for i := range w.Len() {
			if py.TypeName(w.Key(i)) != py.TypeName(g.Key(i)) {
				return false
			}
		}
		return true
	}
	return py.Same(want, got)
}

func sameSeq(w, g []any) bool {
	if len(w) != len(g) {
		return false
	}
	for i := range w {
		if !same(w[i], g[i]) {
			return false
		}
	}
	return true
}

func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameProxy(w, g *codec.ProxyRef) bool {
	return w.URI.Equal(g.URI) && sameNames(w.Oneway, g.Oneway) && sameNames(w.Methods, g.Methods) &&
		sameNames(w.Attrs, g.Attrs) && py.Same(w.Timeout, g.Timeout) &&
		string(w.HMACKey) == string(g.HMACKey) && (w.HMACKey == nil) == (g.HMACKey == nil) &&
		same(w.Handshake, g.Handshake) && w.MaxRetries == g.MaxRetries && w.Serializer == g.Serializer
}

func sameCall(w, g *codec.Call) bool {
	if w.Object != g.Object || w.Method != g.Method || !sameSeq(w.Args, g.Args) {
		return false
	}
	if (w.Kwargs == nil) != (g.Kwargs == nil) {
		return false
	}
	return w.Kwargs == nil || same(w.Kwargs, g.Kwargs)
}

// describe prints a decoded value for a failure message.
func describe(v any) string {
	switch x := v.(type) {
	case uri.URI:
		return fmt.Sprintf("uri.URI(%s)%+v", x, []any{x.Protocol, x.Object, x.Tags, x.Sockname, x.Host, x.Port})
	case *codec.ProxyRef:
		return fmt.Sprintf("&ProxyRef%+v", *x)
	case *codec.ExceptionWrapper:
		return "&ExceptionWrapper{" + describe(x.Exception) + "}"
	case *py.Exception:
		return fmt.Sprintf("&py.Exception{%q, %s, %s}", x.Class, py.Repr(x.Args), py.Repr(x.Attributes))
	case *codec.Call:
		if x == nil {
			return "<nil call>"
		}
		kw := "None"
		if x.Kwargs != nil {
			kw = describe(x.Kwargs)
		}
		return fmt.Sprintf("Call(%q, %q, %s, %s)", x.Object, x.Method, describe(x.Args), kw)
	case []any:
		s := "["
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += describe(e)
		}
		return s + "]"
	case py.Tuple:
		s := "("
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += describe(e)
		}
		if len(x) == 1 {
			s += ","
		}
		return s + ")"
	}
	r := py.Repr(v)
	if len(r) > 300 {
		r = r[:300] + fmt.Sprintf("...(%d chars)", len(r))
	}
	return r
}

// degrade returns the value a Pyro peer receives when v travels through
// serializer ser, following protocol §3: json and msgpack have no tuples or
// sets (arrays), json keys are strings, serpent sends bytes as a base64
// dict, an empty set as () and a frozenset as a set. Values of Pyro classes
// are returned unchanged (their own state is compared by same).
func degrade(ser string, v any) any {
	seqOnly := ser == "json" || ser == "msgpack"
	switch x := v.(type) {
	case py.Tuple:
		items := degradeAll(ser, x)
		if seqOnly {
			return items
		}
		return py.Tuple(items)
	case []any:
		return degradeAll(ser, x)
	case *py.Dict:
		d := py.NewDict(x.Len())
		for k, val := range x.All() {
			switch ser {
			case "json":
				k = jsonKey(k)
			case "serpent":
				if s, ok := k.(*py.Set); ok && s.Frozen {
					panic("serpent cannot carry frozenset keys")
				}
			}
			if err := d.Set(k, degrade(ser, val)); err != nil {
				panic(err)
			}
		}
		return d
	case *py.Set:
		if seqOnly {
			return degradeAll(ser, x.Items())
		}
		if ser == "serpent" {
			if x.Len() == 0 {
				return py.Tuple{}
			}
			s := py.NewSet(x.Len(), false)
			for _, it := range x.Items() {
				_ = s.Add(degrade(ser, it))
			}
			return s
		}
		return x
	case []byte:
		if ser == "serpent" {
			return py.DictOf("data", base64.StdEncoding.EncodeToString(x), "encoding", "base64")
		}
		return x
	case *py.Exception:
		e := &py.Exception{Class: x.Class, Args: py.Tuple(degradeAll(ser, x.Args))}
		if x.Attributes != nil {
			e.Attributes = degrade(ser, x.Attributes).(*py.Dict)
		}
		return e
	case *codec.ExceptionWrapper:
		return &codec.ExceptionWrapper{Exception: degrade(ser, x.Exception).(*py.Exception)}
	case *codec.ProxyRef:
		p := *x
		p.Handshake = degrade(ser, x.Handshake)
		return &p
	}
	return v
}

func degradeAll(ser string, items []any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = degrade(ser, it)
	}
	return out
}

// jsonKey is Python's json conversion of a dict key to a str.
func jsonKey(k any) any {
	switch x := k.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		switch r := py.FormatFloat(x); r {
		case "nan":
			return "NaN"
		case "inf":
			return "Infinity"
		case "-inf":
			return "-Infinity"
		default:
			return r
		}
	}
	return k
}

// bigInt parses a decimal integer literal into the model (int64 when it fits).
func bigInt(s string) any {
	return py.NormalizeInt(testkit.BigInt(s))
}

// pow2 returns sign * 2^n in the model.
func pow2(n uint, sign int) any {
	b := new(big.Int).Lsh(big.NewInt(1), n)
	if sign < 0 {
		b.Neg(b)
	}
	return py.NormalizeInt(b)
}

// add returns a+b in the model; a and b are int64 or *big.Int.
func add(a, b any) any {
	toBig := func(v any) *big.Int {
		switch x := v.(type) {
		case int64:
			return big.NewInt(x)
		case *big.Int:
			return new(big.Int).Set(x)
		}
		panic("not an int")
	}
	return py.NormalizeInt(new(big.Int).Add(toBig(a), toBig(b)))
}
