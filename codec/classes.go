package codec

import (
	"fmt"

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
	return classDict(ClassProxy, "state", py.Tuple{p.URI.String(), strTuple(p.Oneway), strTuple(p.Methods), strTuple(p.Attrs),
		p.Timeout, nil, p.Handshake, int64(p.MaxRetries), strOrNone(p.Serializer)})
}

// ExceptionWrapper is the entry of a batch result that failed
// (Pyro4.futures._ExceptionWrapper).
type ExceptionWrapper struct {
	Exception *py.Exception
}

// PyroClassDict returns the wrapper's dict form.
func (w *ExceptionWrapper) PyroClassDict() *py.Dict {
	return classDict(ClassExceptionWrapper, "exception", w.Exception)
}

// classDict is the dict form {'__class__': class, field: value}.
func classDict(class, field string, value any) *py.Dict {
	d := py.NewDict(2)
	d.SetString("__class__", class)
	d.SetString(field, value)
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
