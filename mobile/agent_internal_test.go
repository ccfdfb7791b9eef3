package mobile

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/py"
)

// labRecords is the server object the agent tests read.
type labRecords struct {
	recs    []map[string]any
	blocked chan struct{} // Block reports its start here
}

func newLabRecords(n int) *labRecords {
	r := &labRecords{blocked: make(chan struct{}, 4)}
	for i := range n {
		tag := "y"
		if i%3 == 0 {
			tag = "x"
		}
		r.recs = append(r.recs, map[string]any{"id": i, "value": int64(i * 37 % 1000), "tag": tag})
	}
	return r
}

// summary is what the agent's summarize returns for the records.
func (r *labRecords) summary(tag string) map[string]any {
	var sum, mx, tagged int64
	for _, rec := range r.recs {
		v := rec["value"].(int64)
		sum += v
		mx = max(mx, v)
		if rec["tag"] == tag {
			tagged++
		}
	}
	return map[string]any{"count": int64(len(r.recs)), "sum": sum, "max": mx, "tagged": tagged}
}

func (r *labRecords) Count() int { return len(r.recs) }

func (r *labRecords) Slice(start, n int) ([]map[string]any, error) {
	if start < 0 || n < 0 {
		return nil, &pyro.PythonError{Class: "ValueError", Msg: "negative start or count"}
	}
	start = min(start, len(r.recs))
	return r.recs[start:min(start+n, len(r.recs))], nil
}

func (r *labRecords) Secret() string { return "the secret" }

// Block waits until its context ends.
func (r *labRecords) Block(ctx context.Context) error {
	r.blocked <- struct{}{}
	<-ctx.Done()
	return context.Cause(ctx)
}

// Who says who the method sees calling.
func (r *labRecords) Who(ctx context.Context) []any {
	cc := pyro.CallContextFrom(ctx)
	return []any{cc.Agent, cc.Conn.Identity}
}

// agentServed starts a service with grants and registers the lab objects:
// lab.records, and lab.other with the same methods.
func agentServed(t *testing.T, dopts []pyro.DaemonOption, opts ...Option) (*served, *labRecords) {
	t.Helper()
	s := startServed(t, dopts, append([]Option{WithValidator(acceptAll())}, opts...)...)
	recs := newLabRecords(1000)
	if _, err := s.d.Register(recs, "lab.records"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.d.Register(newLabRecords(3), "lab.other"); err != nil {
		t.Fatal(err)
	}
	return s, recs
}

var labGrant = Grant{Object: "lab.records", Methods: []string{"count", "slice", "who", "block"}}

// TestAgentGoClient: a Go client ships the agent module, which reads the
// granted object in batches and returns the summary; calls of an
// ungranted method and of an ungranted object are refused with the
// reason, which the module passes on to the client.
func TestAgentGoClient(t *testing.T) {
	bin := goModule(t, "agent")
	s, recs := agentServed(t, nil, WithGrants(labGrant))
	p := s.proxy(t, withMsgpack())
	ctx := ctxT(t)
	id, err := p.Call(ctx, "load", bin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Call(ctx, "call", id, "summarize", "lab.records", 64, "x")
	if err != nil || plainJSON(got) != jsonText(recs.summary("x")) {
		t.Fatalf("summarize: %v, %v; want %v", got, err, recs.summary("x"))
	}
	got, err = p.Call(ctx, "call", id, "invoke", "lab.records", "slice", []any{998, 5})
	if err != nil || plainJSON(got) != `[{"id":998,"tag":"y","value":926},{"id":999,"tag":"x","value":963}]` {
		t.Fatalf("slice: %v, %v", plainJSON(got), err)
	}
	_, err = p.Call(ctx, "call", id, "invoke", "lab.records", "secret", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "invoke failed: SecurityError: mobile: module "+short(id.(string))+
		" may not call lab.records.secret for the client at 127.0.0.1: no grant allows it")
	_, err = p.Call(ctx, "call", id, "summarize", "lab.other", 10, "x")
	wantRemote(t, err, "builtins.RuntimeError", "summarize failed: count: SecurityError:", "may not call lab.other.count")
	// a granted call fails as a remote call would
	_, err = p.Call(ctx, "call", id, "invoke", "lab.records", "slice", []any{-1, 2})
	wantRemote(t, err, "builtins.RuntimeError", "ValueError: negative start or count")
	_, err = p.Call(ctx, "call", id, "invoke", "lab.records", "slice", []any{"a", 2})
	wantRemote(t, err, "builtins.RuntimeError", "TypeError: ")
	_, err = p.Call(ctx, "call", id, "invoke", pyro.DaemonObjectID, "registered", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "may not call Pyro.Daemon.registered")
	_, err = p.Call(ctx, "call", id, "invoke", "nobody", "count", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "SecurityError:", "may not call nobody.count")
}

// TestAgentPythonClient: the same through Python Pyro4 clients.
func TestAgentPythonClient(t *testing.T) {
	bin, path := goModuleFile(t, "agent")
	id := idOf(bin)
	s, recs := agentServed(t, nil, WithGrants(labGrant))
	steps := []pytest.MobileStep{
		{Op: "load", Args: []any{map[string]any{"$file": path}}},
		{Op: "call", Args: []any{id, "summarize", "lab.records", 100, "y"}},
		{Op: "call", Args: []any{id, "invoke", "lab.records", "secret", []any{}}},
		{Op: "call", Args: []any{id, "summarize", "lab.other", 100, "y"}},
	}
	for _, env := range [][]string{nil, {"PYRO_SERIALIZER=msgpack"}} {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			out := pytest.RunPyMobile(t, s.uri.String(), false, env, steps...)
			if !out[0].OK || out[0].Result != id {
				t.Errorf("load: %+v", out[0])
			}
			if !out[1].OK || jsonText(out[1].Result) != jsonText(recs.summary("y")) {
				t.Errorf("summarize: %+v; want %v", out[1], recs.summary("y"))
			}
			for _, r := range out[2:] {
				if r.OK || r.Error != "RuntimeError" || !contains(r.Msg, "SecurityError: mobile: module") || !contains(r.Msg, "no grant allows it") {
					t.Errorf("refusal: %+v", r)
				}
			}
			if !contains(out[2].Msg, "lab.records.secret") || !contains(out[3].Msg, "lab.other.count") {
				t.Errorf("refusals do not name the call: %+v", out[2:])
			}
		})
	}
}

// TestAgentGrantsByIdentityAndModule: a grant for an identity serves the
// modules that client calls, not another client's calls of the same
// module; a grant for a module id serves that module only.
func TestAgentGrantsByIdentityAndModule(t *testing.T) {
	bin := goModule(t, "agent")
	id := idOf(bin)
	otherID := strings.Repeat("ab", 32)
	s, _ := agentServed(t, []pyro.DaemonOption{pyro.WithAllowedIdentities(map[string]string{"alice": "pw-alice", "bob": "pw-bob"})},
		WithGrants(
			Grant{Object: "lab.records", Methods: []string{"who"}, Identities: []string{"alice"}},
			Grant{Object: "lab.other", Methods: []string{"*"}, Modules: []string{strings.ToUpper(id)}},
			Grant{Object: "lab.records", Methods: []string{"count"}, Modules: []string{otherID}},
		))
	ctx := ctxT(t)
	alice := s.proxy(t, pyro.WithIdentification("pw-alice"), withMsgpack())
	bob := s.proxy(t, pyro.WithIdentification("pw-bob"), withMsgpack())
	if _, err := alice.Call(ctx, "load", bin); err != nil {
		t.Fatal(err)
	}
	got, err := alice.Call(ctx, "call", id, "invoke", "lab.records", "who", []any{})
	if err != nil || plainJSON(got) != jsonText([]any{id, "alice"}) {
		t.Fatalf("alice's who: %v, %v", got, err)
	}
	_, err = bob.Call(ctx, "call", id, "invoke", "lab.records", "who", []any{})
	wantRemote(t, err, "builtins.RuntimeError", `may not call lab.records.who for the client at 127.0.0.1 with identity "bob"`)
	// the module grant: this module may call anything of lab.other, for
	// anyone; the grant for another module id does not reach it
	if got, err := bob.Call(ctx, "call", id, "invoke", "lab.other", "count", []any{}); err != nil || got != int64(3) {
		t.Fatalf("bob's count of lab.other: %v, %v", got, err)
	}
	_, err = bob.Call(ctx, "call", id, "invoke", "lab.records", "count", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "may not call lab.records.count")
	// "*" is every name a remote client could call, and no more
	_, err = bob.Call(ctx, "call", id, "invoke", "lab.other", "_secret", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "AttributeError: attempt to access private attribute '_secret'")
	// a local call (Service.Call) has no identity
	if _, err := s.svc.Call(ctx, id, "invoke", "lab.records", "who", []any{}); err == nil || !strings.Contains(err.Error(), "for the local caller: no grant") {
		t.Fatalf("local who: %v", err)
	}
}

// TestAgentInterceptor: the daemon's interceptors see an agent's calls,
// marked with the module id and carrying the client's connection, and
// can refuse them.
func TestAgentInterceptor(t *testing.T) {
	bin := goModule(t, "agent")
	id := idOf(bin)
	var mu sync.Mutex
	var seen []string
	policy := pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
		return func(ctx context.Context, c *pyro.Call) (any, error) {
			cc := pyro.CallContextFrom(ctx)
			if cc.Agent == "" {
				return next(ctx, c)
			}
			mu.Lock()
			seen = append(seen, short(cc.Agent)+" "+cc.Conn.Identity+" "+c.Object()+"."+c.GoMethod())
			mu.Unlock()
			if c.GoMethod() == "Slice" && cc.Conn.Identity != "alice" {
				return nil, pyro.NewError(pyro.ErrSecurity, "only alice's agents may read records")
			}
			return next(ctx, c)
		}
	})
	s, recs := agentServed(t, []pyro.DaemonOption{pyro.WithInterceptors(policy),
		pyro.WithAllowedIdentities(map[string]string{"alice": "pw-alice", "bob": "pw-bob"})}, WithGrants(labGrant))
	ctx := ctxT(t)
	alice := s.proxy(t, pyro.WithIdentification("pw-alice"), withMsgpack())
	bob := s.proxy(t, pyro.WithIdentification("pw-bob"), withMsgpack())
	if _, err := alice.Call(ctx, "load", bin); err != nil {
		t.Fatal(err)
	}
	recs.recs = recs.recs[:10]
	if got, err := alice.Call(ctx, "call", id, "summarize", "lab.records", 6, "x"); err != nil || plainJSON(got) != jsonText(recs.summary("x")) {
		t.Fatalf("alice: %v, %v", got, err)
	}
	_, err := bob.Call(ctx, "call", id, "summarize", "lab.records", 6, "x")
	wantRemote(t, err, "builtins.RuntimeError", "slice(0, 6): SecurityError: only alice's agents may read records")
	mu.Lock()
	defer mu.Unlock()
	m := short(id)
	want := strings.Join([]string{m + " alice lab.records.Count", m + " alice lab.records.Slice", m + " alice lab.records.Slice",
		m + " bob lab.records.Count", m + " bob lab.records.Slice"}, ",")
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("interceptor saw\n%s\nwant\n%s", got, want)
	}
}

// TestAgentLimits: the invokes of one call are capped; an agent call to
// a method that blocks ends with the module call's time cap, and the
// daemon keeps serving; the service cannot be granted; without grants a
// module that imports pyro.invoke does not load.
func TestAgentLimits(t *testing.T) {
	bin := goModule(t, "agent")
	id := idOf(bin)
	s, _ := agentServed(t, nil, WithGrants(labGrant), WithMaxInvokes(5), WithCallTimeout(testbound.Scale(time.Second)))
	ctx := ctxT(t)
	p := s.proxy(t, withMsgpack())
	if _, err := p.Call(ctx, "load", bin); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Call(ctx, "call", id, "repeat", "lab.records", "count", 5); err != nil || got != int64(5) {
		t.Fatalf("5 invokes: %v, %v", got, err)
	}
	_, err := p.Call(ctx, "call", id, "repeat", "lab.records", "count", 6)
	wantRemote(t, err, "builtins.RuntimeError", "call 6: MemoryError: mobile: module "+short(id)+" made more than 5 invokes in one call (WithMaxInvokes)")

	// a blocking method ends with the call's time cap: a short cap,
	// doubled (with a new service) while it ends before the method ran
	// (instantiation counts against it, and the machine may be slow)
	for limit := 300 * time.Millisecond; ; limit *= 2 {
		bs, brecs := agentServed(t, nil, WithGrants(labGrant), WithCallTimeout(limit))
		bp := bs.proxy(t, withMsgpack())
		if _, err := bp.Call(ctx, "load", bin); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = bp.Call(ctx, "call", id, "invoke", "lab.records", "block", []any{})
		wantRemote(t, err, "builtins.TimeoutError", "stopped after", "its time cap is "+limit.String())
		select {
		case <-brecs.blocked:
		default:
			if limit < testbound.Scale(10*time.Second) {
				continue
			}
			t.Fatal("block never ran")
		}
		t.Logf("blocked agent call ended after %v (cap %v)", time.Since(start), limit)
		// the daemon and the service still serve
		if got, err := p.Call(ctx, "call", id, "repeat", "lab.records", "count", 2); err != nil || got != int64(2) {
			t.Fatalf("after the blocked call: %v, %v", got, err)
		}
		if got, err := bp.Call(ctx, "modules"); err != nil || !strings.Contains(plainJSON(got), id) {
			t.Fatalf("modules after the blocked call: %v, %v", got, err)
		}
		break
	}

	// results and requests are bounded by WithMaxResultSize
	small, _ := agentServed(t, nil, WithGrants(labGrant, Grant{Object: pyro.DaemonObjectID, Methods: []string{"ping"}}), WithMaxResultSize(4096), WithCallTimeout(testbound.Scale(time.Second)))
	sp := small.proxy(t, withMsgpack())
	if _, err := sp.Call(ctx, "load", bin); err != nil {
		t.Fatal(err)
	}
	if got, err := sp.Call(ctx, "call", id, "invoke", "lab.records", "slice", []any{0, 10}); err != nil || len(got.([]any)) != 10 {
		t.Fatalf("a small slice: %v, %v", got, err)
	}
	if got, err := sp.Call(ctx, "call", id, "invoke", pyro.DaemonObjectID, "ping", []any{}); err != nil || got != nil {
		t.Fatalf("granted ping: %v, %v", got, err)
	}
	_, err = sp.Call(ctx, "call", id, "invoke", pyro.DaemonObjectID, "registered", []any{})
	wantRemote(t, err, "builtins.RuntimeError", "may not call Pyro.Daemon.registered")
	_, err = sp.Call(ctx, "call", id, "invoke", "lab.records", "slice", []any{0, 1000})
	wantRemote(t, err, "builtins.RuntimeError", "MemoryError: mobile: result of lab.records.slice is larger than 4096 bytes (WithMaxResultSize)")
	_, err = sp.Call(ctx, "call", id, "invoke", "lab.records", "count", []any{make([]byte, 5000)})
	wantRemote(t, err, "builtins.RuntimeError", "MemoryError: mobile: invoke request of 50", "is larger than 4096 (WithMaxResultSize)")

	if _, err := NewService(WithGrants(Grant{Object: ObjectID, Methods: []string{"*"}})); err == nil || !strings.Contains(err.Error(), "cannot be granted") {
		t.Fatalf("granting the service: %v", err)
	}
	if _, err := NewService(WithGrants(Grant{Object: "x", Modules: []string{"nothex"}})); err == nil || !strings.Contains(err.Error(), "not a module id") {
		t.Fatalf("bad module id: %v", err)
	}
	plain := startServed(t, nil, WithValidator(acceptAll()))
	_, err = plain.proxy(t, withMsgpack()).Call(ctx, "load", bin)
	wantRemote(t, err, "Pyro4.errors.SecurityError", "pyro.invoke (func)")
}

// plainJSON is jsonText of v with its dicts made maps.
func plainJSON(v any) string {
	var plain func(v any) any
	plain = func(v any) any {
		switch x := v.(type) {
		case *py.Dict:
			m := map[string]any{}
			for k, e := range x.All() {
				m[fmt.Sprint(k)] = plain(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = plain(e)
			}
			return l
		}
		return v
	}
	return jsonText(plain(v))
}
