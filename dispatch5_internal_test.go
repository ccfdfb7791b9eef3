package pyro

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// TestDaemonObjectPyro5 drives Pyro.Daemon as a Pyro5 connection calls it
// (Pyro5/server.py's DaemonObject): the same six methods as Pyro4's, with
// get_metadata taking the object id alone and answering sets, and the
// answers and errors Pyro5 gives; encoded by the Pyro5 codecs, Pyro errors
// carry Pyro5's class names and the traceback says them too.
func TestDaemonObjectPyro5(t *testing.T) {
	d, dc, _ := testDispatcher(t, nil)
	dc.conn.Protocol = int(wire.Protocol502)

	out := dc.do(0, DaemonObjectID, "get_metadata", []any{"calc"})
	meta, ok := out.value.(*py.Dict)
	if out.err != nil || !ok {
		t.Fatalf("get_metadata: %v %v", py.Repr(out.value), out.err)
	}
	for _, k := range []string{"methods", "oneway", "attrs"} {
		if v, _ := meta.GetString(k); py.TypeName(v) != "set" {
			t.Errorf("get_metadata %s is %s, want a set as Pyro5 sends", k, py.TypeName(v))
		}
	}
	own := d.lookup(DaemonObjectID).ti.meta.value(false)
	methods, _ := own.GetString("methods")
	if got, want := py.Repr(methods), "{'close_stream', 'get_metadata', 'get_next_stream_item', 'info', 'ping', 'registered'}"; got != want {
		t.Errorf("Pyro.Daemon's methods %s, want Pyro5's %s", got, want)
	}
	wantErr(t, "get_metadata unknown", dc.do(0, DaemonObjectID, "get_metadata", []any{"nope"}), "Pyro4.errors.DaemonError", "unknown object")
	wantErr(t, "next item of unknown stream", dc.do(0, DaemonObjectID, "get_next_stream_item", []any{"nope"}),
		"Pyro4.errors.PyroError", "item stream terminated")
	if out := dc.do(0, DaemonObjectID, "ping", nil); out.err != nil || out.value != nil {
		t.Errorf("ping: %v %v", out.value, out.err)
	}
	if out := dc.do(0, DaemonObjectID, "info", nil); out.err != nil || !strings.Contains(out.value.(string), "objects registered. Servertype:") {
		t.Errorf("info: %v %v", out.value, out.err)
	}
	if out := dc.do(0, DaemonObjectID, "close_stream", []any{"nope"}); out.err != nil {
		t.Errorf("close_stream: %v", out.err)
	}

	// a stream, as a Pyro5 client pulls it: items, then StopIteration
	out = dc.do(0, "calc", "count", []any{2})
	if out.streamID == "" {
		t.Fatalf("count: no stream: %v", out)
	}
	for i := range 2 {
		if v := dc.do(0, DaemonObjectID, "get_next_stream_item", []any{out.streamID}); v.err != nil || py.Repr(v.value) != py.Repr(int64(i)) && py.Repr(v.value) != py.Repr(i) {
			t.Errorf("item %d: %v %v", i, py.Repr(v.value), v.err)
		}
	}
	wantErr(t, "end of stream", dc.do(0, DaemonObjectID, "get_next_stream_item", []any{out.streamID}), "builtins.StopIteration", "")

	// on the wire: a Pyro5 codec names the error Pyro5's, and so does the traceback
	exc := exceptionFor(dc.do(0, DaemonObjectID, "get_metadata", []any{"nope"}).err)
	tb := simpleTracebackFor(exc, dc.protocol())
	if tb[len(tb)-1] != "Pyro5.errors.DaemonError: unknown object\n" {
		t.Errorf("traceback %q", tb)
	}
	data, err := codec.DefaultFor(codec.Pyro5, codec.ID5JSON).Marshal(exc)
	if err != nil || !strings.Contains(string(data), `"Pyro5.errors.DaemonError"`) {
		t.Errorf("Pyro5 json: %s %v", data, err)
	}
	if tb4 := simpleTracebackFor(exc, int(wire.Protocol48)); tb4[len(tb4)-1] != "DaemonError: unknown object\n" {
		t.Errorf("Pyro4 traceback changed: %q", tb4)
	}
}
