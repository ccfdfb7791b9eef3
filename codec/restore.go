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

// restoreClass is the DictHook of the Pyro4 codecs: Pyro4's class
// restoration (restoreClass5 is Pyro5's).
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
		return uriFromDict(cls, d)
	case ClassProxy:
		return proxyFromDict(d)
	case ClassExceptionWrapper:
		return wrapperFromDict(cls, d)
	case "float":
		return floatFromDict(cls, d)
	}
	return d, nil
}

// uriFromDict reads a URI dict's state (the same in Pyro4 and Pyro5).
func uriFromDict(cls string, d *py.Dict) (any, error) {
	st, _ := d.GetString("state")
	u, err := uri.FromState(st)
	if err != nil {
		return nil, &ClassError{Class: cls, Msg: err.Error()}
	}
	return u, nil
}

// wrapperFromDict reads a batch exception wrapper (Pyro4's
// futures._ExceptionWrapper, Pyro5's core._ExceptionWrapper).
func wrapperFromDict(cls string, d *py.Dict) (any, error) {
	ev, _ := d.GetString("exception")
	e, ok := ev.(*py.Exception)
	if !ok {
		return nil, &ClassError{Class: cls, Msg: "exception is " + py.TypeName(ev)}
	}
	return &ExceptionWrapper{Exception: e}, nil
}

// floatFromDict reads serpent's {'__class__': 'float', 'value': 'nan'}.
func floatFromDict(cls string, d *py.Dict) (any, error) {
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
	items, _ := sequence(st)
	if len(items) != 8 && len(items) != 9 {
		return fail("state must have 8 or 9 items")
	}
	p := &ProxyRef{Handshake: items[6]}
	if err := proxyNames(p, items[:4]); err != nil {
		return fail(err.Error())
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

// proxyNames reads the first four items of a proxy state, the same in
// Pyro4 and Pyro5: the URI string and the oneway, method and attribute
// name lists.
func proxyNames(p *ProxyRef, items []any) error {
	us, ok := items[0].(string)
	if !ok {
		return fmt.Errorf("uri is %s", py.TypeName(items[0]))
	}
	u, err := uri.Parse(us)
	if err != nil {
		return err
	}
	p.URI = u
	for i, dst := range []*[]string{&p.Oneway, &p.Methods, &p.Attrs} {
		names, err := stringList(items[1+i])
		if err != nil {
			return err
		}
		*dst = names
	}
	return nil
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	items, ok := sequence(v)
	if s, isSet := v.(*py.Set); isSet {
		items, ok = s.Items(), true
	}
	if !ok {
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
