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
	items, _ := sequence(st)
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
