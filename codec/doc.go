// Package codec turns Pyro's message shapes into bytes and back, for each
// serializer a Pyro4 peer may use:
//
//	id  name     package
//	1   serpent  github.com/pyrogo/pyro/serpent
//	2   json     internal/pyjson
//	3   marshal  github.com/pyrogo/pyro/marshal
//	6   msgpack  internal/pymsgpack
//
// Pickle (4), dill (5) and cloudpickle (7) are refused by ForID and ForName
// with an error that says why: decoding them executes code chosen by the
// sender. No decoder here can create anything but plain data; every one
// runs under py.Limits.
//
// A Codec encodes values (results, exceptions, handshake dicts) with
// Marshal and calls with MarshalCall, and decodes with Unmarshal /
// UnmarshalCall. Decoding applies Pyro's class restoration (protocol doc
// §3.7) as the value is built: dicts with a '__class__' key become
// uri.URI, *ProxyRef, *py.Exception, *ExceptionWrapper or a float NaN;
// dicts of any other class are kept as plain *py.Dict, since Go has no
// classes to instantiate. msgpack's datetime and date extensions decode to
// time.Time (see package pymsgpack), in calls as well as in results.
package codec
