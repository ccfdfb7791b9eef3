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
//
// # Layout
//
// The four codecs are one implementation; a serializer contributes only
// its value package's encoder and decoder and the layout of its calls,
// which is where Pyro4's serializers really differ:
//
//	codec.go        the Codec interface, serializer ids, Options
//	serializers.go  Pyro's serializer table: ForID, ForName, Default, refusals
//	pyrocodec.go    the one Codec implementation over a serializer's coders
//	formats.go      each serializer's coders (msgpack: times as extensions in values only)
//	call.go         Call, its checks in both directions
//	calllayout.go   the call as a 4-tuple (vargs a tuple, or a list for marshal) or json's object
//	classes.go      the URI/Proxy/ExceptionWrapper dict forms pyrogo writes
//	restore.go      class restoration while decoding (URI, Proxy, exceptions, wrappers, NaN)
//
// Values of Pyro classes (uri.URI, *ProxyRef, *ExceptionWrapper,
// *py.Exception) are written by every value encoder through their
// PyroClassDict method (py.ClassDicter).
package codec
