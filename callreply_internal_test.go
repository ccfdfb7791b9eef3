package pyro

import (
	"context"
	"errors"
	"testing"
)

// TestCallReplyExtras: WithCorrelationID reaches the daemon in both
// protocols, WithRawReply gets the RESULT payload as the daemon
// serialized it (results and exceptions), and a oneway call leaves it
// empty.
func TestCallReplyExtras(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	id := [16]byte{0x11, 0x11, 0x22, 0x22, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x22, 0x22, 0x44, 0x44, 0x99, 0x99}
	for _, proto := range []string{Protocol4, Protocol5} {
		p := newProxy(t, u, nil, WithSerializer("json"), WithProtocol(proto))
		ctx := WithCorrelationID(context.Background(), id)
		var raw RawReply
		v, err := p.Call(WithRawReply(ctx, &raw), "corr")
		if err != nil {
			t.Fatal(err)
		}
		if v != uuidString(id) {
			t.Errorf("%s: daemon saw correlation id %v, want %s", proto, v, uuidString(id))
		}
		jsonID := map[string]int{Protocol4: 2, Protocol5: 3}[proto] // json's id in 48 and 502
		if string(raw.Data) != `"`+uuidString(id)+`"` || raw.Exception || raw.SerializerID != jsonID {
			t.Errorf("%s: raw reply %+v (%q)", proto, raw, raw.Data)
		}
		if want := map[string]int{Protocol4: 48, Protocol5: 502}[proto]; raw.Protocol != want {
			t.Errorf("%s: raw reply protocol %d", proto, raw.Protocol)
		}
		// without the option the daemon makes its own id
		if v, _ := p.Call(context.Background(), "corr"); v == uuidString(id) {
			t.Errorf("%s: correlation id sent without WithCorrelationID", proto)
		}
		raw = RawReply{}
		_, err = p.Call(WithRawReply(context.Background(), &raw), "fail")
		var re *RemoteError
		if !errors.As(err, &re) || !raw.Exception || len(raw.Data) == 0 || raw.Data[0] != '{' {
			t.Errorf("%s: exception %v, raw %+v", proto, err, raw)
		}
		raw = RawReply{}
		if err := p.OnewayKw(WithRawReply(context.Background(), &raw), "kw", nil, map[string]any{"a": 1}); err != nil {
			t.Fatal(err)
		}
		if raw.Data != nil {
			t.Errorf("%s: oneway call filled the raw reply: %q", proto, raw.Data)
		}
	}
}

// TestRawReplyOnly: WithRawReplyOnly fills the raw reply and returns no
// decoded value; an exception is ErrRawException with the raw exception,
// and the proxy keeps working after it (its connection is not reused).
func TestRawReplyOnly(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	id := [16]byte{1, 2, 3}
	for _, proto := range []string{Protocol4, Protocol5} {
		p := newProxy(t, u, nil, WithSerializer("json"), WithProtocol(proto))
		var raw RawReply
		v, err := p.Call(WithRawReplyOnly(WithCorrelationID(context.Background(), id), &raw), "corr")
		if err != nil || v != nil || string(raw.Data) != `"`+uuidString(id)+`"` || raw.Exception {
			t.Errorf("%s: result %v, %v, raw %+v", proto, v, err, raw)
		}
		raw = RawReply{}
		_, err = p.Call(WithRawReplyOnly(context.Background(), &raw), "fail")
		if !errors.Is(err, ErrRawException) || !raw.Exception || len(raw.Data) == 0 || raw.Data[0] != '{' {
			t.Errorf("%s: exception %v, raw %+v", proto, err, raw)
		}
		if v, err := p.Call(context.Background(), "corr"); err != nil || v == nil {
			t.Errorf("%s: call after a raw exception: %v, %v", proto, v, err)
		}
	}
}
