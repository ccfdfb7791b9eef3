package codec

import (
	"github.com/pyrogo/pyro/internal/pyjson"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/serpent"
)

// The serializers' coders: where Pyro's serializers really differ. Every
// decoder restores the dialect's class dicts, every encoder writes them
// (see dialect.go); the layout of calls is the same in Pyro4 and Pyro5.

func serpentCoders(lim py.Limits, d *dialect) coders {
	enc := &serpent.Encoder{ClassDict: d.classDict}
	return coders{values: enc, calls: enc, layout: callTuple,
		dec: &serpent.Decoder{Limits: lim, DictHook: d.restore}}
}

// marshalCoders: Pyro's MarshalSerializer sends the call's vargs as a
// list.
func marshalCoders(lim py.Limits, d *dialect) coders {
	enc := &marshal.Encoder{ClassDict: d.classDict}
	return coders{values: enc, calls: enc, layout: callTupleVargsList,
		dec: &marshal.Decoder{Limits: lim, DictHook: d.restore}}
}

// jsonCoders: Pyro's JsonSerializer sends the call as an object.
func jsonCoders(lim py.Limits, d *dialect) coders {
	enc := &pyjson.Encoder{ClassDict: d.classDict}
	return coders{values: enc, calls: enc, layout: callObject,
		dec: &pyjson.Decoder{Limits: lim, DictHook: d.restore}}
}

// msgpackCoders writes values (results, handshakes, exceptions) as Pyro's
// dumps does, with times as its datetime and date extension types, so that
// a Python client gets back the type it sent. Pyro4 writes calls with
// times as ISO strings, because a Pyro4 server passes extension types to
// its methods undecoded (pymsgpack's package documentation); Pyro5's
// loadsCall decodes them, so Pyro5 calls carry times as extensions too.
func msgpackCoders(lim py.Limits, d *dialect) coders {
	values := &pymsgpack.Encoder{TimeExt: true, ClassDict: d.classDict}
	calls := &pymsgpack.Encoder{TimeExt: d.callTimes, ClassDict: d.classDict}
	c := coders{values: values, calls: calls, layout: callTuple,
		dec: &pymsgpack.Decoder{Limits: lim, DictHook: d.restore}}
	if d.strictCallKeys {
		c.callDec = &pymsgpack.Decoder{Limits: lim, DictHook: d.restore, StrictMapKey: true}
	}
	return c
}
