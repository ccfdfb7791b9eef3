package pyro

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

var instances atomic.Int64

// Counter counts calls per instance.
type Counter struct{ n int }

func newCounter() any { instances.Add(1); return &Counter{} }

func (c *Counter) Incr() int { c.n++; return c.n }

func TestInstanceModes(t *testing.T) {
	d, _, _ := startDaemon(t, nil)
	for _, tc := range []struct {
		mode InstanceMode
		id   string
		// results of 3 calls on proxy 1 then 2 calls on proxy 2
		want []int64
	}{
		{InstanceSingle, "single", []int64{1, 2, 3, 4, 5}},
		{InstanceSession, "session", []int64{1, 2, 3, 1, 2}},
		{InstancePerCall, "percall", []int64{1, 1, 1, 1, 1}},
	} {
		u, err := d.RegisterFactory(newCounter, tc.mode, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for i, calls := range []int{3, 2} {
			p := newProxy(t, u, nil, WithMaxConns(1))
			for j := 0; j < calls; j++ {
				v, err := p.Call(context.Background(), "incr")
				if err != nil {
					t.Fatalf("%s proxy %d: %v", tc.id, i, err)
				}
				got = append(got, v.(int64))
			}
			p.Close()
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", tc.id, got, tc.want)
				break
			}
		}
	}
}

func TestNATAndURIs(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.NATHost, cfg.NATPort = "gateway.example", 4444
	d, err := NewDaemon(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, _ := d.Register(&Thing{}, "thing")
	if u.String() != "PYRO:thing@gateway.example:4444" {
		t.Errorf("NAT uri %s", u)
	}
	d2, _ := NewDaemon(nil)
	defer d2.Close()
	u2, _ := d2.Register(&Thing{}, "")
	if u2.Host != "localhost" || len(u2.Object) != 36 || u2.Object[:4] != "obj_" {
		t.Errorf("default uri %s", u2)
	}
}

// Inner and Outer model the seed's traversal attack: a public object
// whose fields lead to something that was never meant to be exposed.
type Inner struct{ secret string }

func (i *Inner) Secret() string { return i.secret }

type Outer struct {
	Child *Inner
	Plain string
}

func (o *Outer) Hello() string { return "hello" }

func TestDottedNames(t *testing.T) {
	for _, allowed := range []bool{false, true} {
		cfg := BuiltinConfig()
		cfg.DottedNames = allowed
		d, _, _ := startDaemon(t, cfg)
		u, _ := d.Register(&Outer{Child: &Inner{secret: "s3cret"}}, "outer")
		c := dialRaw(t, u)
		c.Connect("thing")
		c.Send(rawpyro.Invoke(1, 1, "outer", "child.secret"))
		m, _ := c.Recv()
		if !allowed {
			e := rawpyro.ExceptionOf(t, m)
			if e.Message() != "'Outer' object has no attribute 'child.secret'" {
				t.Errorf("traversal not refused: %s", py.Repr(e))
			}
		} else {
			v, err := codecFor(m).Unmarshal(m.Data)
			if err != nil || m.Flags&wire.FlagException != 0 || v != "s3cret" {
				t.Errorf("DOTTEDNAMES traversal: %v %v", v, err)
			}
		}
		// private names stay private even when traversal is on
		c.Send(rawpyro.Invoke(1, 2, "outer", "child._secret"))
		m, _ = c.Recv()
		if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.AttributeError" {
			t.Errorf("private traversal: %s", py.Repr(e))
		}
	}
}

func TestPing(t *testing.T) {
	_, u, _ := startDaemon(t, nil)
	c := dialRaw(t, u)
	c.Connect("thing")
	c.Send(&wire.Message{Type: wire.MsgPing, Seq: 9, SerializerID: wire.PingSerializerID, Data: []byte("ping")})
	m, err := c.Recv()
	if err != nil || m.Type != wire.MsgPing || string(m.Data) != "pong" || m.Seq != 9 || m.SerializerID != 42 {
		t.Fatalf("ping reply %+v %v", m, err)
	}
	if corr, ok := m.Annotation(wire.AnnCorr); !ok || len(corr) != 16 {
		t.Error("no CORR on ping reply")
	}
}

func TestStreamLimits(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.IterStreamLifetime = 200 * time.Millisecond
	cfg.PollTimeout = 50 * time.Millisecond
	d, u, _ := startDaemon(t, cfg)
	p := newProxy(t, u, nil)
	ctx := context.Background()
	v, err := p.Call(ctx, "infinite")
	if err != nil {
		t.Fatal(err)
	}
	s := v.(*Stream)
	if _, ok, err := s.Next(ctx); !ok || err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "streams closed", func() bool { return d.streams.count() == 0 })
	_, _, err = s.Next(ctx)
	var re *RemoteError
	if !errors.As(err, &re) || re.Message() != "item stream terminated" {
		t.Errorf("expired stream: %v", err)
	}
	// linger 0: streams die with their connection
	cfg2 := BuiltinConfig()
	cfg2.IterStreamLinger = 0
	d2, u2, _ := startDaemon(t, cfg2)
	p2 := newProxy(t, u2, nil)
	if _, err := p2.Call(ctx, "infinite"); err != nil {
		t.Fatal(err)
	}
	p2.Close()
	testkit.Eventually(t, "streams closed", func() bool { return d2.streams.count() == 0 })
	// streaming off: a clear error, and the iterator is released
	cfg3 := BuiltinConfig()
	cfg3.IterStreaming = false
	_, u3, _ := startDaemon(t, cfg3)
	p3 := newProxy(t, u3, nil)
	_, err = p3.Call(ctx, "generator")
	if !errors.As(err, &re) || re.Message() != "result of call is an iterator, but the server is not configured to allow streaming" {
		t.Errorf("streaming off: %v", err)
	}
}

func TestMaxConnections(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.MaxConnections = 2
	_, u, _ := startDaemon(t, cfg)
	ctx := context.Background()
	p1, p2 := newProxy(t, u, nil), newProxy(t, u, nil)
	for _, p := range []*Proxy{p1, p2} {
		if _, err := p.Call(ctx, "echo", 1); err != nil {
			t.Fatal(err)
		}
	}
	p3 := newProxy(t, u, nil)
	_, err := p3.Call(ctx, "echo", 1)
	if !errors.Is(err, ErrConnectionDenied) {
		t.Errorf("third connection: %v", err)
	}
	// established clients keep working; a slot frees up when one leaves
	if _, err := p1.Call(ctx, "echo", 2); err != nil {
		t.Error(err)
	}
	p2.Close()
	testkit.Eventually(t, "a call served again", func() bool { _, err := p3.Call(ctx, "echo", 3); return err == nil })
}

func TestCompressionAndSizeLimit(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.Compression = true
	cfg.MaxMessageSize = 4000
	_, u, _ := startDaemon(t, cfg)
	pc := BuiltinConfig()
	pc.Compression = true
	p := newProxy(t, u, pc)
	big := make([]byte, 3000) // compresses well below the limit
	for i := range big {
		big[i] = 'a'
	}
	if v, err := p.Call(context.Background(), "echo", string(big)); err != nil || len(v.(string)) != 3000 {
		t.Errorf("compressed echo: %v", err)
	}
	p2 := newProxy(t, u, nil)
	_, err := p2.Call(context.Background(), "echo", string(big)+string(big))
	if !errors.Is(err, ErrConnectionClosed) {
		t.Errorf("oversize request: %v", err)
	}
	lim := BuiltinConfig()
	lim.MaxMessageSize = 100
	p3 := newProxy(t, u, lim)
	p3.Close()
	p3 = newProxy(t, u, lim)
	_, err = p3.Call(context.Background(), "echo", string(big))
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("local size limit: %v", err)
	}
}
