// Package codec turns Pyro's message shapes into bytes and back, for each
// serializer a Pyro4 or Pyro5 peer may use:
//
//	Pyro4 id  Pyro5 id  name     package
//	1         1         serpent  github.com/pyrogo/pyro/serpent
//	2         3         json     internal/pyjson
//	3         2         marshal  github.com/pyrogo/pyro/marshal
//	6         4         msgpack  internal/pymsgpack
//
// Pickle (4), dill (5) and cloudpickle (7) are refused by ForID and ForName
// with an error that says why: decoding them executes code chosen by the
// sender. Pyro5 has none of them; its unknown ids are ErrUnknown.
//
// # Pyro4 and Pyro5
//
// Options.Protocol chooses the dialect (Pyro4, the zero value, or Pyro5);
// DefaultFor(Pyro5, id) is the shared Pyro5 codec for a 502 header's
// serializer id. The two dialects use the same serializers and the same
// call layouts; they differ in (dialect.go):
//
//   - the class names: Pyro5.core.URI, Pyro5.client.Proxy,
//     Pyro5.core._ExceptionWrapper, Pyro5.errors.X (Pyro4: Pyro4.core.URI,
//     Pyro4.core.Proxy, Pyro4.futures._ExceptionWrapper, Pyro4.errors.X);
//   - the proxy state: (uri, oneway, methods, attrs, handshake,
//     serializer), 6 items, no timeout, HMAC key or retry count;
//   - msgpack calls: Pyro5 decodes extension types in calls too, so a
//     Pyro5 msgpack call carries times as its datetime/date extensions.
//
// The Go values are the same in both: a Pyro5 URI decodes to uri.URI, a
// proxy to *ProxyRef, a wrapper to *ExceptionWrapper, and an exception of
// class Pyro5.errors.X to a *py.Exception of class Pyro4.errors.X (the
// names pyrogo's errors use), which a Pyro5 codec writes as Pyro5.errors.X
// again. Each dialect restores only its own class names; the other's stay
// plain *py.Dict, as a Python peer of that generation would not restore
// them either. Exceptions, URIs' state, bytes, sets, NaN, complex, big
// ints and times are written alike (Pyro5 keeps serpent's base64 bytes
// dicts unless SERPENT_BYTES_REPR is set; pyrogo reads either). No decoder here can create anything but plain data; every one
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
//	protocol.go     Protocol (Pyro4, Pyro5) and its serializer table lookups
//	serializers.go  Pyro's serializer tables: ForID, ForName, Default(For), refusals
//	dialect.go      what Pyro5 changes: its class dicts written and restored
//	pyrocodec.go    the one Codec implementation over a serializer's coders
//	formats.go      each serializer's coders (msgpack: times as extensions in values only)
//	call.go         Call, its checks in both directions
//	calllayout.go   the call as a 4-tuple (vargs a tuple, or a list for marshal) or json's object
//	classes.go      the Pyro4 URI/Proxy/ExceptionWrapper dict forms pyrogo writes
//	restore.go      Pyro4 class restoration while decoding (URI, Proxy, exceptions, wrappers, NaN)
//
// Values of Pyro classes (uri.URI, *ProxyRef, *ExceptionWrapper,
// *py.Exception) are written by every value encoder through their
// PyroClassDict method (py.ClassDicter), Pyro4's forms, unless the
// encoder's ClassDict hook (py.ClassDictFunc) is set: the Pyro5 codecs set
// it to write Pyro5's forms.
package codec
