package naming

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

func TestParsePolicy(t *testing.T) {
	good := `# name server policy
deny all host=10.0.0.0/8   # no lab network

allow connect,broadcast
allow register,remove name=lab.* identity=alice,#1 cn=client?
allow lookup,list prefix=lab. prefix=pub. host=127.0.0.1,::1/128,unix
allow discover
`
	p, err := ParsePolicyString(good)
	if err != nil {
		t.Fatal(err)
	}
	rules := p.Rules()
	if len(rules) != 5 {
		t.Fatalf("%d rules: %+v", len(rules), rules)
	}
	if r := rules[0]; r.Allow || r.Ops != OpAll || r.Line != 2 || len(r.Hosts) != 1 || r.Hosts[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("rule 0: %+v", r)
	}
	if r := rules[2]; !r.Allow || r.Ops != OpRegister|OpRemove || r.Line != 5 ||
		strings.Join(r.Names, " ") != "lab.*" || strings.Join(r.Identities, " ") != "alice #1" || strings.Join(r.CommonNames, " ") != "client?" {
		t.Errorf("rule 2: %+v", r)
	}
	if r := rules[3]; r.Ops != OpLookup|OpList || len(r.Prefixes) != 2 || len(r.Hosts) != 2 || !r.UnixHosts ||
		r.Hosts[0] != netip.MustParsePrefix("127.0.0.1/32") {
		t.Errorf("rule 3: %+v", r)
	}
	if r := rules[4]; r.Ops != OpBroadcast || r.Line != 7 {
		t.Errorf("rule 4: %+v", r)
	}

	bad := []struct {
		text string
		line int
		want string
	}{
		{"permit all", 1, "allow or deny"},
		{"# c\nallow", 2, "missing operations"},
		{"allow name=x", 1, "missing operations"},
		{"\n\nallow lookup,fly", 3, `unknown operation "fly"`},
		{"allow lookup name", 1, "not key=value"},
		{"allow lookup user=bob", 1, "unknown condition"},
		{"allow lookup host=300.1.1.1", 1, "bad host address"},
		{"allow lookup host=10.0.0.0/99", 1, "bad host range"},
		{"allow connect\ndeny lookup name=", 2, "empty value"},
		{"allow lookup name=a,,b", 1, "empty value"},
	}
	for _, tc := range bad {
		_, err := ParsePolicyString(tc.text)
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want line %d %q", tc.text, err, tc.line, tc.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "a.b.c", true}, {"lab.*", "lab.printer", true}, {"lab.*", "lab.", true},
		{"lab.*", "lab", false}, {"lab.*", "xlab.y", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*.printer", "lab.x.printer", true}, {"a*b*c", "aXbYbZc", true}, {"a*b*c", "aXbY", false},
	} {
		if got := globMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pat, tc.s, got)
		}
	}
}

// named identities for the tests' name servers
func withIdentities(ids map[string]string) ServerOption {
	return WithDaemonOptions(pyro.WithAllowedIdentities(ids))
}

func isSecurityError(err error) bool {
	return errors.Is(err, pyro.ErrSecurity)
}

// Name hijacking: alice owns lab.*, bob may not register there nor remove
// alice's names; lookups and lists follow the policy.
func TestPolicyNameHijacking(t *testing.T) {
	policy, err := ParsePolicyString(`
allow connect
allow register,remove name=lab.* identity=alice
allow register,remove prefix=bob. identity=bob
allow lookup,list name=lab.*,bob.*,Pyro.*
allow lookup name=secret.* identity=alice
`)
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := testkit.TextLogger(slog.LevelInfo)
	s := startNS(t, nil, WithPolicy(policy), withIdentities(map[string]string{"alice": "alice-pass", "bob": "bob-pass"}),
		WithLogger(logger))
	ctx := ctxT(t)
	alice := nsClient(t, s.URI().String(), pyro.WithIdentification("alice-pass"))
	bob := nsClient(t, s.URI().String(), pyro.WithIdentification("bob-pass"))
	target := "PYRO:obj@127.0.0.1:5555"

	if err := alice.Register(ctx, "lab.printer", target, false, nil); err != nil {
		t.Fatalf("alice register: %v", err)
	}
	err = bob.Register(ctx, "lab.printer", "PYRO:evil@127.0.0.1:6666", false, nil)
	if !isSecurityError(err) || !strings.Contains(err.Error(), "register") || !strings.Contains(err.Error(), "lab.printer") {
		t.Fatalf("bob hijacking lab.printer: %v", err)
	}
	if err := bob.SetMetadata(ctx, "lab.printer", []string{"evil"}); !isSecurityError(err) {
		t.Errorf("bob set_metadata: %v", err)
	}
	if _, err := bob.Remove(ctx, "lab.printer"); !isSecurityError(err) {
		t.Errorf("bob remove: %v", err)
	}
	if _, err := bob.RemovePrefix(ctx, "lab."); !isSecurityError(err) {
		t.Errorf("bob remove prefix: %v", err)
	}
	if _, err := bob.RemoveRegex(ctx, "lab"); !isSecurityError(err) {
		t.Errorf("bob remove regex: %v", err)
	}
	if u, err := bob.Lookup(ctx, "lab.printer"); err != nil || u.String() != target {
		t.Errorf("lab.printer is %v, %v after bob's attempts", u, err)
	}
	if err := bob.Register(ctx, "bob.toaster", target, false, nil); err != nil {
		t.Errorf("bob registering his own name: %v", err)
	}
	if err := alice.Register(ctx, "secret.plans", target, false, nil); !isSecurityError(err) {
		t.Errorf("alice registering outside lab.*: %v", err)
	}
	// lookups: secret.* only for alice (the name itself comes from Go)
	if err := s.NameServer().register("secret.plans", target, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Lookup(ctx, "secret.plans"); err != nil {
		t.Errorf("alice lookup secret.plans: %v", err)
	}
	if _, err := bob.Lookup(ctx, "secret.plans"); !isSecurityError(err) || !strings.Contains(err.Error(), "lookup") {
		t.Errorf("bob lookup secret.plans: %v", err)
	}
	if _, err := bob.Lookup(ctx, "secret.unknown"); !isSecurityError(err) {
		t.Errorf("bob lookup of an unregistered denied name: %v (must not tell it is unknown)", err)
	}
	// list: filtered to what each may list
	regs, err := bob.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range regs {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if strings.Join(names, " ") != "Pyro.NameServer bob.toaster lab.printer" {
		t.Errorf("bob lists %v", names)
	}
	if _, err := alice.Remove(ctx, "lab.printer"); err != nil {
		t.Errorf("alice remove: %v", err)
	}
	if !strings.Contains(logs.String(), "denied by policy") || !strings.Contains(logs.String(), "identity=bob") {
		t.Errorf("denials not logged:\n%s", logs.String())
	}

	// a client without an identity passes no identity rule: with a
	// connect rule for alice only, it is refused on its first call
	p2, _ := ParsePolicyString("allow connect identity=alice\nallow lookup name=*")
	s2 := startNS(t, nil, WithPolicy(p2), withIdentities(map[string]string{"alice": "alice-pass", "bob": "bob-pass"}))
	if err := nsClient(t, s2.URI().String(), pyro.WithIdentification("bob-pass")).Ping(ctx); !isSecurityError(err) {
		t.Errorf("bob ping where only alice may connect: %v", err)
	}
	if err := nsClient(t, s2.URI().String(), pyro.WithIdentification("alice-pass")).Ping(ctx); err != nil {
		t.Errorf("alice ping: %v", err)
	}
}

// A connect rule by host refuses the connection itself.
func TestPolicyConnectByHost(t *testing.T) {
	p, _ := ParsePolicyString("deny connect host=127.0.0.0/8\nallow all")
	s := startNS(t, nil, WithPolicy(p))
	err := nsClient(t, s.URI().String()).Ping(ctxT(t))
	if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("ping from a denied host: %v", err)
	}
	p, _ = ParsePolicyString("allow all host=127.0.0.1")
	s = startNS(t, nil, WithPolicy(p))
	if err := nsClient(t, s.URI().String()).Ping(ctxT(t)); err != nil {
		t.Fatalf("ping from an allowed host: %v", err)
	}
	// default deny
	s = startNS(t, nil, WithPolicy(NewPolicy()))
	if err := nsClient(t, s.URI().String()).Ping(ctxT(t)); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Fatalf("ping under an empty policy: %v", err)
	}
}

// The responder ignores requests from hosts the policy denies broadcast.
func TestPolicyBroadcast(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		policy string
		answer bool
	}{
		{"deny broadcast host=127.0.0.0/8\nallow all", false},
		{"allow connect\nallow broadcast host=127.0.0.1", true},
		{"allow connect", false},
	} {
		p, err := ParsePolicyString(tc.policy)
		if err != nil {
			t.Fatal(err)
		}
		s := startNS(t, nil, WithPolicy(p), withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0))
		if s.Responder() == nil {
			t.Fatalf("no responder: %s", s.NoBroadcastReason())
		}
		got := udpAsk(t, c, s.Responder().Addr(), []byte("GET_NSURI"), 400*time.Millisecond)
		if (got != "") != tc.answer {
			t.Errorf("%q: answer %q", tc.policy, got)
		}
	}
}

// PYRONAME: resolution through a passphrase-protected name server uses
// the proxy's identification, and answers are not shared between
// identities.
func TestResolveThroughPassphraseNS(t *testing.T) {
	r := pyro.WithResolver(NewResolver(WithResolveTTL(time.Minute)))
	p, _ := ParsePolicyString("allow connect\nallow lookup name=thing identity=alice")
	s := startNS(t, nil, WithPolicy(p), withIdentities(map[string]string{"alice": "alice-pass", "bob": "bob-pass"}))
	// the target object lives in a daemon with the same passphrases (a
	// proxy with an identification requires every daemon it talks to to
	// prove it, the target's too)
	d, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0),
		pyro.WithAllowedIdentifications([]string{"alice-pass", "bob-pass"}))
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.Register(&policyThing{}, "thing")
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(context.Background())
	t.Cleanup(func() { d.Close() })
	if err := s.NameServer().register("thing", u.String(), nil); err != nil {
		t.Fatal(err)
	}
	name := "PYRONAME:thing@127.0.0.1:" + strconv.Itoa(s.URI().Port)
	call := func(opts ...pyro.ProxyOption) (any, error) {
		px, err := pyro.NewProxy(name, testConfig(), append([]pyro.ProxyOption{r}, opts...)...)
		if err != nil {
			return nil, err
		}
		defer px.Close()
		return px.Call(ctxT(t), "hello")
	}
	if v, err := call(pyro.WithIdentification("alice-pass")); err != nil || v != "hi" {
		t.Fatalf("alice through PYRONAME: %v, %v", v, err)
	}
	if _, err := call(pyro.WithIdentification("bob-pass")); !isSecurityError(err) {
		t.Errorf("bob through PYRONAME (alice's answer must not be reused): %v", err)
	}
	if _, err := call(); !errors.Is(err, pyro.ErrConnectionDenied) && !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("no identification through PYRONAME: %v", err)
	}
}

type policyThing struct{}

// Hello answers "hi".
func (*policyThing) Hello() string { return "hi" }
