package codec

import (
	"strings"

	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// Python class names of Pyro5's dict forms (Pyro5/core.py, client.py).
const (
	ClassURI5              = "Pyro5.core.URI"
	ClassProxy5            = "Pyro5.client.Proxy"
	ClassExceptionWrapper5 = "Pyro5.core._ExceptionWrapper"
)

// Module prefixes of Pyro's own exception classes.
const (
	errorsModule4 = "Pyro4.errors."
	errorsModule5 = "Pyro5.errors."
)

// dialect is what a protocol changes in the values a serializer carries.
// In Go, values look the same whatever the protocol: uri.URI, *ProxyRef,
// *ExceptionWrapper, and *py.Exception with Pyro's error classes named
// "Pyro4.errors.X" (the names pyrogo's own errors use). A dialect
// translates those to its peers' forms when writing and back when
// reading.
type dialect struct {
	// classDict writes class values; nil is Pyro4's PyroClassDict.
	classDict py.ClassDictFunc
	// restore is the decoders' DictHook: class restoration.
	restore func(*py.Dict) (any, error)
	// callTimes: the peer decodes msgpack extension types (datetime,
	// date, complex, big int) in calls too, so calls may carry them.
	callTimes bool
	// strictCallKeys: the peer's daemon refuses msgpack map keys other
	// than str and bytes in calls (msgpack's strict_map_key), so a
	// pyrogo daemon does too, with the same ValueError
	strictCallKeys bool
}

var (
	dialect4 = &dialect{restore: restoreClass}
	dialect5 = &dialect{classDict: classDict5, restore: restoreClass5, callTimes: true, strictCallKeys: true}
)

func dialectOf(p Protocol) *dialect {
	if p == Pyro5 {
		return dialect5
	}
	return dialect4
}

// classDict5 writes Pyro5's forms:
//
//   - uri.URI: {'__class__': 'Pyro5.core.URI', 'state': (protocol,
//     object, sockname, host, port)}, the state as in Pyro4;
//   - *ProxyRef: {'__class__': 'Pyro5.client.Proxy', 'state': (uri,
//     oneway, methods, attrs, handshake, serializer)}: Pyro5's proxy
//     carries no timeout, HMAC key or retry count;
//   - *ExceptionWrapper: {'__class__': 'Pyro5.core._ExceptionWrapper',
//     'exception': {...}};
//   - *py.Exception: Pyro4's form with a class in Pyro4.errors renamed
//     to Pyro5.errors (other classes, builtins.* among them, unchanged);
//
// and any other py.ClassDicter as its PyroClassDict.
func classDict5(v py.ClassDicter) *py.Dict {
	switch x := v.(type) {
	case uri.URI:
		return classDict(ClassURI5, "state", x.State())
	case *ProxyRef:
		return classDict(ClassProxy5, "state", py.Tuple{x.URI.String(), strTuple(x.Oneway), strTuple(x.Methods),
			strTuple(x.Attrs), x.Handshake, strOrNone(x.Serializer)})
	case *ExceptionWrapper:
		return classDict(ClassExceptionWrapper5, "exception", x.Exception)
	case *py.Exception:
		d := x.PyroClassDict()
		if rest, ok := strings.CutPrefix(x.Class, errorsModule4); ok {
			d.SetString("__class__", errorsModule5+rest)
		}
		return d
	}
	return v.PyroClassDict()
}

// restoreClass5 is Pyro5's class restoration (SerializerBase.dict_to_class):
// Pyro5.core.URI, Pyro5.client.Proxy (6-item state),
// Pyro5.core._ExceptionWrapper, exception dicts (Pyro5.errors.X read as
// Pyro4.errors.X, see dialect) and serpent's float dict. Pyro4's class
// names are not Pyro5's: a Pyro4.core.URI dict stays a *py.Dict here, as
// a Pyro5 peer would not restore it either. Like restoreClass, dicts of
// other classes are kept as plain *py.Dict.
func restoreClass5(d *py.Dict) (any, error) {
	clsVal, ok := d.GetString("__class__")
	if !ok {
		return d, nil
	}
	cls, ok := clsVal.(string)
	if !ok {
		return d, nil
	}
	if e, ok := py.ExceptionFromDict(d); ok {
		if rest, found := strings.CutPrefix(e.Class, errorsModule5); found {
			e.Class = errorsModule4 + rest
		}
		return e, nil
	}
	switch cls {
	case ClassURI5:
		return uriFromDict(cls, d)
	case ClassProxy5:
		return proxyFromDict5(d)
	case ClassExceptionWrapper5:
		return wrapperFromDict(cls, d)
	case "float":
		return floatFromDict(cls, d)
	}
	return d, nil
}

// proxyFromDict5 reads Pyro5's proxy state (uri, oneway, methods, attrs,
// handshake, serializer).
func proxyFromDict5(d *py.Dict) (any, error) {
	fail := func(msg string) (any, error) { return nil, &ClassError{Class: ClassProxy5, Msg: msg} }
	st, _ := d.GetString("state")
	items, _ := sequence(st)
	if len(items) != 6 {
		return fail("state must have 6 items")
	}
	p := &ProxyRef{Handshake: items[4]}
	if err := proxyNames(p, items[:4]); err != nil {
		return fail(err.Error())
	}
	if s, ok := items[5].(string); ok {
		p.Serializer = s
	}
	return p, nil
}

func strTuple(ss []string) py.Tuple {
	t := make(py.Tuple, len(ss))
	for i, s := range ss {
		t[i] = s
	}
	return t
}

func strOrNone(s string) any {
	if s == "" {
		return nil
	}
	return s
}
