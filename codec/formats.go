package codec

import (
	"github.com/pyrogo/pyro/internal/pyjson"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/serpent"
)

// The serializers' coders: where Pyro4's serializers really differ. Every
// decoder restores Pyro's class dicts with restoreClass.

func serpentCoders(lim py.Limits) coders {
	enc := &serpent.Encoder{}
	return coders{values: enc, calls: enc, layout: callTuple,
		dec: &serpent.Decoder{Limits: lim, DictHook: restoreClass}}
}

// marshalCoders: Pyro4's MarshalSerializer sends the call's vargs as a
// list.
func marshalCoders(lim py.Limits) coders {
	enc := &marshal.Encoder{}
	return coders{values: enc, calls: enc, layout: callTupleVargsList,
		dec: &marshal.Decoder{Limits: lim, DictHook: restoreClass}}
}

// jsonCoders: Pyro4's JsonSerializer sends the call as an object.
func jsonCoders(lim py.Limits) coders {
	enc := &pyjson.Encoder{}
	return coders{values: enc, calls: enc, layout: callObject,
		dec: &pyjson.Decoder{Limits: lim, DictHook: restoreClass}}
}

// msgpackCoders writes values (results, handshakes, exceptions) as Pyro4's
// dumps does, with times as its datetime and date extension types, so that
// a Python client gets back the type it sent; calls are written with times
// as ISO strings, because a Python server passes extension types to its
// methods undecoded (pymsgpack's package documentation).
func msgpackCoders(lim py.Limits) coders {
	return coders{values: &pymsgpack.Encoder{TimeExt: true}, calls: &pymsgpack.Encoder{}, layout: callTuple,
		dec: &pymsgpack.Decoder{Limits: lim, DictHook: restoreClass}}
}
