package pyro

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// blobSink receives serialized blobs; Forward passes one on to next.
type blobSink struct{ next *Proxy }

func (s *blobSink) PyroExpose() Exposure {
	return Exposure{Params: map[string][]string{"take": {"blob"}}}
}

// Take answers [info, serializer, bytes held, args...], decoding the blob.
func (s *blobSink) Take(b *SerializedBlob) ([]any, error) {
	args, err := b.Deserialized()
	if err != nil {
		return nil, err
	}
	return append([]any{b.Info, b.Serializer(), len(b.Data())}, args...), nil
}

// Forward passes the blob on undecoded to next's take.
func (s *blobSink) Forward(ctx context.Context, b *SerializedBlob) (any, error) {
	return s.next.Call(ctx, "take", b)
}

// Plain takes ordinary arguments: a blob sent to it arrives as a blob,
// which it cannot convert.
func (s *blobSink) Plain(a, b int) int { return a + b }

// TestSerializedBlob: a Go proxy sends a blob, a Go method receives it
// undecoded and passes it on through another proxy without decoding it,
// in both protocols and every serializer.
func TestSerializedBlob(t *testing.T) {
	ctx := context.Background()
	cfg := BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	d, _, _ := startDaemon(t, cfg)
	for _, pc := range protocolChoices[:2] {
		for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
			t.Run(pc.choice+"/"+ser, func(t *testing.T) {
				last := &blobSink{}
				lu, err := d.Register(last, "")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Unregister(lu.Object) })
				opts := []ProxyOption{WithSerializer(ser), WithProtocol(pc.choice)}
				gw := &blobSink{next: newProxy(t, lu, nil, opts...)}
				gu, err := d.Register(gw, "")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Unregister(gu.Object) })
				p := newProxy(t, gu, nil, opts...)
				blob := NewSerializedBlob(py.Tuple{"id", int64(7)}, "one", int64(2), []any{3.5})
				v, err := p.Call(ctx, "take", blob)
				got, _ := v.([]any)
				if err != nil || len(got) != 6 || !py.Same(got[0], py.Tuple{"id", int64(7)}) && !py.Same(got[0], []any{"id", int64(7)}) ||
					got[1] != ser || got[2] == int64(0) || !py.Same(got[3:], []any{"one", int64(2), []any{3.5}}) {
					t.Errorf("take: %s %v", py.Repr(v), err)
				}
				// through the gateway: the body arrives as the client sent it
				// (a call of "forward", 3 bytes longer than one of "take":
				// it was not serialized again)
				v, err = p.Call(ctx, "forward", blob)
				got2, _ := v.([]any)
				if err != nil || len(got2) != 6 || !py.Same(got2[:2], got[:2]) || !py.Same(got2[3:], got[3:]) ||
					got2[2] != got[2].(int64)+int64(len("forward")-len("take")) {
					t.Errorf("forward: %s %v, direct %s", py.Repr(v), err, py.Repr(got))
				}
				// a method without a blob parameter: a TypeError, not a crash
				var re *RemoteError
				if _, err := p.Call(ctx, "plain", blob); !errors.As(err, &re) || re.Class() != "builtins.TypeError" {
					t.Errorf("plain(blob): %v", err)
				}
				// a blob must be the only argument, as in Pyro
				if _, err := p.Call(ctx, "take", blob, 1); !errors.Is(err, ErrSerialize) || !strings.Contains(err.Error(), "only argument") {
					t.Errorf("blob and another argument: %v", err)
				}
				if _, err := p.CallKw(ctx, "take", []any{blob}, map[string]any{"x": 1}); !errors.Is(err, ErrSerialize) {
					t.Errorf("blob and a keyword argument: %v", err)
				}
				if _, err := p.Call(ctx, "take", NewSerializedBlob(func() {})); !errors.Is(err, ErrSerialize) || !strings.Contains(err.Error(), "not marshallable") {
					t.Errorf("unmarshallable info: %v", err)
				}
				if p.Protocol() != pc.want {
					t.Errorf("spoke %d", p.Protocol())
				}
			})
		}
	}
}

// TestSerializedBlobHostile: KEEPSERIALIZED requests with a missing,
// malformed, deeply nested, oversized or lying BLBI annotation, or a body
// that is not what it claims, are answered with an error (or a TypeError
// from the method), and the daemon goes on serving.
func TestSerializedBlobHostile(t *testing.T) {
	d, u, _ := startDaemon(t, nil)
	su, err := d.Register(&blobSink{}, "sink")
	if err != nil {
		t.Fatal(err)
	}
	_ = su
	blbi := func(v any) []byte {
		b, err := marshal.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nested := []byte{}
	for range 5000 {
		nested = append(nested, ')', 1) // TYPE_SMALL_TUPLE of 1 item, nested
	}
	nested = append(nested, 'N')
	good := func(proto wire.Protocol) *wire.Message {
		var m *wire.Message
		if proto == wire.Protocol502 {
			m = rawpyro.Invoke5(codec.ID5Serpent, 1, "sink", "take", "x")
		} else {
			m = rawpyro.Invoke(codec.IDSerpent, 1, "sink", "take", "x")
		}
		m.Flags |= wire.FlagKeepSerialized
		m.SetAnnotation(wire.AnnBlob, blbi(py.Tuple{"info", "sink", "take"}))
		return m
	}
	cases := []struct {
		name  string
		edit  func(m *wire.Message)
		class string // the exception class answered
		text  string
	}{
		{"good", func(*wire.Message) {}, "", ""},
		{"no annotation", func(m *wire.Message) { m.Annotations = nil }, "Pyro4.errors.SerializeError", "without a BLBI annotation"},
		{"garbage annotation", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, []byte("\xff\x00garbage")) }, "Pyro4.errors.SerializeError", "bad BLBI annotation"},
		{"nested annotation", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, nested) }, "Pyro4.errors.SerializeError", "bad BLBI annotation"},
		{"annotation not a 3-tuple", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, blbi(py.Tuple{"info", "sink"})) }, "Pyro4.errors.SerializeError", "want (info, object id, method name)"},
		{"object id not str", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, blbi(py.Tuple{"info", int64(1), "take"})) }, "Pyro4.errors.SerializeError", "must be str"},
		{"unknown object", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, blbi(py.Tuple{"info", "nope", "take"})) }, "Pyro4.errors.DaemonError", "unknown object"},
		{"lying object: the annotation decides", func(m *wire.Message) { m.SetAnnotation(wire.AnnBlob, blbi(py.Tuple{"info", "thing", "echo"})) }, "", ""},
		{"body not a call", func(m *wire.Message) { m.Data = []byte("\x00\x01 not serpent") }, "Pyro4.errors.SerializeError", "cannot decode serialized blob"},
		{"batch", func(m *wire.Message) { m.Flags |= wire.FlagBatch }, "Pyro4.errors.SerializeError", "batch cannot carry"},
	}
	for _, proto := range []wire.Protocol{wire.Protocol48, wire.Protocol502} {
		for _, c := range cases {
			t.Run(proto.String()+"/"+c.name, func(t *testing.T) {
				rc := dialRaw(t, u)
				if proto == wire.Protocol502 {
					rc.Connect5("sink")
				} else {
					rc.Connect("sink")
				}
				m := good(proto)
				c.edit(m)
				rc.Send(m)
				r, err := rc.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if r.Flags&wire.FlagException == 0 {
					if c.class != "" {
						t.Fatalf("no exception, want %s", c.class)
					}
					return
				}
				e := rawpyro.ExceptionOf(t, r)
				if e.Class != c.class || !strings.Contains(py.Repr(e.Args), c.text) {
					t.Errorf("got %s %s, want %s containing %q", e.Class, py.Repr(e.Args), c.class, c.text)
				}
				// the connection still serves
				rc.Send(good(proto))
				if r, err := rc.Recv(); err != nil || r.Flags&wire.FlagException != 0 {
					t.Errorf("after %s: %v %v", c.name, r, err)
				}
			})
		}
	}
	p := newProxy(t, u, nil)
	if v, err := p.Call(context.Background(), "echo", "still serving"); err != nil || v != "still serving" {
		t.Errorf("after the hostile blobs: %v %v", v, err)
	}
}
