package codec

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// Python class names of the dict forms this package restores.
const (
	ClassProxy            = "Pyro4.core.Proxy"
	ClassExceptionWrapper = "Pyro4.futures._ExceptionWrapper"
)

// ProxyRef is a serialized Pyro proxy ({'__class__': 'Pyro4.core.Proxy',
// 'state': (...)}), as a daemon returns for a registered object
// (autoproxy). The core package turns it into a live proxy.
type ProxyRef struct {
	URI        uri.URI
	Oneway     []string // method names called oneway
	Methods    []string // exposed methods
	Attrs      []string // exposed attributes
	Timeout    float64  // the sender's timeout; receivers use their own
	HMACKey    []byte   // a key the sender chose to ship (Pyro leaks it); pyrogo never sends one
	Handshake  any
	MaxRetries int
	Serializer string // "" when the sender left it to the receiver
}

// PyroClassDict returns the Proxy dict form with a 9-item state. The HMAC
// key slot is always None: pyrogo never puts a key on the wire.
func (p *ProxyRef) PyroClassDict() *py.Dict {
	strs := func(ss []string) py.Tuple {
		t := make(py.Tuple, len(ss))
		for i, s := range ss {
			t[i] = s
		}
		return t
	}
	var ser any
	if p.Serializer != "" {
		ser = p.Serializer
	}
	d := py.NewDict(2)
	d.SetString("__class__", ClassProxy)
	d.SetString("state", py.Tuple{p.URI.String(), strs(p.Oneway), strs(p.Methods), strs(p.Attrs),
		p.Timeout, nil, p.Handshake, int64(p.MaxRetries), ser})
	return d
}

// ExceptionWrapper is the entry of a batch result that failed
// (Pyro4.futures._ExceptionWrapper).
type ExceptionWrapper struct {
	Exception *py.Exception
}

// PyroClassDict returns the wrapper's dict form.
func (w *ExceptionWrapper) PyroClassDict() *py.Dict {
	d := py.NewDict(2)
	d.SetString("__class__", ClassExceptionWrapper)
	d.SetString("exception", w.Exception)
	return d
}

// ClassError reports a recognised class dict whose content is malformed.
type ClassError struct {
	Class string
	Msg   string
}

func (e *ClassError) Error() string {
	return fmt.Sprintf("malformed %s: %s", e.Class, e.Msg)
}

// restoreClass is the DictHook of every codec: Pyro's class restoration.
func restoreClass(d *py.Dict) (any, error) {
	clsVal, ok := d.GetString("__class__")
	if !ok {
		return d, nil
	}
	cls, ok := clsVal.(string)
	if !ok {
		return d, nil
	}
	if e, ok := py.ExceptionFromDict(d); ok {
		return e, nil
	}
	switch cls {
	case uri.ClassName:
		st, _ := d.GetString("state")
		u, err := uri.FromState(st)
		if err != nil {
			return nil, &ClassError{Class: cls, Msg: err.Error()}
		}
		return u, nil
	case ClassProxy:
		return proxyFromDict(d)
	case ClassExceptionWrapper:
		ev, _ := d.GetString("exception")
		e, ok := ev.(*py.Exception)
		if !ok {
			return nil, &ClassError{Class: cls, Msg: "exception is " + py.TypeName(ev)}
		}
		return &ExceptionWrapper{Exception: e}, nil
	case "float":
		v, _ := d.GetString("value")
		s, ok := v.(string)
		if !ok {
			return nil, &ClassError{Class: cls, Msg: "value is " + py.TypeName(v)}
		}
		f, err := parsePyFloat(s)
		if err != nil {
			return nil, &ClassError{Class: cls, Msg: err.Error()}
		}
		return f, nil
	}
	return d, nil
}

// parsePyFloat accepts what Python's float() accepts for the special
// values ('nan', 'inf', '-inf', 'infinity', any case) and plain numbers.
func parsePyFloat(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch strings.TrimLeft(t, "+-") {
	case "nan":
		return math.NaN(), nil
	case "inf", "infinity":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	// strconv also reads hexadecimal floats ("0x1p3"); Python's float()
	// does not.
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsRune(t, 'x') {
		return 0, fmt.Errorf("could not convert string to float: %q", s)
	}
	return f, nil
}

func proxyFromDict(d *py.Dict) (any, error) {
	fail := func(msg string) (any, error) { return nil, &ClassError{Class: ClassProxy, Msg: msg} }
	st, _ := d.GetString("state")
	var items []any
	switch s := st.(type) {
	case py.Tuple:
		items = s
	case []any:
		items = s
	}
	if len(items) != 8 && len(items) != 9 {
		return fail("state must have 8 or 9 items")
	}
	p := &ProxyRef{Handshake: items[6]}
	us, ok := items[0].(string)
	if !ok {
		return fail("uri is " + py.TypeName(items[0]))
	}
	u, err := uri.Parse(us)
	if err != nil {
		return fail(err.Error())
	}
	p.URI = u
	for i, dst := range []*[]string{&p.Oneway, &p.Methods, &p.Attrs} {
		names, err := stringList(items[1+i])
		if err != nil {
			return fail(err.Error())
		}
		*dst = names
	}
	switch t := items[4].(type) {
	case float64:
		p.Timeout = t
	case int64:
		p.Timeout = float64(t)
	}
	if k, ok := items[5].(string); ok {
		if b64, found := strings.CutPrefix(k, "b64:"); found {
			if key, err := base64.StdEncoding.DecodeString(b64); err == nil {
				p.HMACKey = key
			}
		} else {
			p.HMACKey = []byte(k)
		}
	} else if k, ok := items[5].([]byte); ok {
		p.HMACKey = k
	}
	if r, ok := items[7].(int64); ok {
		p.MaxRetries = int(r)
	}
	if len(items) == 9 {
		if s, ok := items[8].(string); ok {
			p.Serializer = s
		}
	}
	return p, nil
}

func stringList(v any) ([]string, error) {
	var items []any
	switch s := v.(type) {
	case nil:
		return nil, nil
	case py.Tuple:
		items = s
	case []any:
		items = s
	case *py.Set:
		items = s.Items()
	default:
		return nil, fmt.Errorf("name list is %s", py.TypeName(v))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("name is %s", py.TypeName(it))
		}
		out = append(out, s)
	}
	return out, nil
}
