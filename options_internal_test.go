package pyro

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
)

// The Options are both DaemonOptions and ProxyOptions.
var (
	_ Option = WithHMACKey(nil)
	_ Option = WithReplayProtectedHMAC(nil)
	_ Option = WithTLSConfig(nil)
	_ Option = WithPeerCertCheck(nil)
	_ Option = WithLogger(nil)
)

// TestSharedOptions: one option value configures both sides: the same
// HMAC key, the same replay-protected key, the same certificate check and
// the same logger, given once to the daemon and once to the proxy.
func TestSharedOptions(t *testing.T) {
	ctx := context.Background()
	t.Run("hmac", func(t *testing.T) {
		key := WithHMACKey([]byte("shared secret"))
		_, u, _ := startDaemon(t, nil, key)
		if v, err := newProxy(t, u, nil, key).Call(ctx, "echo", "x"); err != nil || v != "x" {
			t.Fatalf("same key: %v %v", v, err)
		}
		if _, err := newProxy(t, u, nil).Call(ctx, "echo", "x"); !errors.Is(err, ErrSecurity) {
			t.Errorf("no key: %v", err)
		}
	})
	t.Run("replay-protected", func(t *testing.T) {
		key := WithReplayProtectedHMAC([]byte("shared secret"))
		_, u, _ := startDaemon(t, nil, key)
		if v, err := newProxy(t, u, nil, key).Call(ctx, "echo", "x"); err != nil || v != "x" {
			t.Fatalf("same key: %v %v", v, err)
		}
		// the plain Pyro4 HMAC with the same key is refused by the daemon
		if _, err := newProxy(t, u, nil, WithHMACKey([]byte("shared secret"))).Call(ctx, "echo", "x"); err == nil {
			t.Error("plain HMAC accepted by a replay-protected daemon")
		}
	})
	t.Run("tls", func(t *testing.T) {
		b := testBundle(t)
		var checked atomic.Int32
		check := WithPeerCertCheck(func(st *tls.ConnectionState) error {
			checked.Add(1)
			_, err := peerLeaf(st) // each side sees the other's certificate
			return err
		})
		_, u, _ := startDaemon(t, nil, WithTLSConfig(serverTLS(t, b, true)), check)
		p := newProxy(t, u, nil, WithTLSConfig(clientTLS(t, b, true)), check)
		if v, err := p.Call(ctx, "echo", "x"); err != nil || v != "x" {
			t.Fatalf("mutual TLS: %v %v", v, err)
		}
		if n := checked.Load(); n != 2 {
			t.Errorf("certificate checks run: %d, want 2 (daemon and proxy)", n)
		}
	})
	t.Run("logger", func(t *testing.T) {
		rec := &testkit.LogRecorder{}
		logger := WithLogger(rec.Logger())
		_, u, _ := startDaemon(t, nil, logger)
		if _, err := newProxy(t, u, nil, logger).Call(ctx, "echo", "x"); err != nil {
			t.Fatal(err)
		}
		if len(rec.Find("proxy connected")) == 0 {
			t.Error("the proxy did not log to the shared logger")
		}
		if len(rec.Find("connection")) == 0 && len(rec.Find("call")) == 0 {
			t.Error("the daemon did not log to the shared logger")
		}
	})
}

// TestOptionErrorsTogether: the constructors report every bad option and
// every bad config item at once, before they bind or dial anything.
func TestOptionErrorsTogether(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.NSPort = 70000
	cfg.PreferIPVersion = 5
	cfg.CommTimeout = -1
	sock := filepath.Join(t.TempDir(), "d.sock")
	_, err := NewDaemon(cfg, WithUnixSocket(sock), WithReplayProtectedHMAC(nil), WithAllowedIdentifications(nil),
		WithAuthEndpoints("example.com:80"), WithListener(nil), WithTLSConfig(&tls.Config{}))
	if err == nil {
		t.Fatal("NewDaemon accepted bad options and config")
	}
	for _, want := range []string{"NS_PORT=70000", "PREFER_IP_VERSION=5", "COMMTIMEOUT=-1e-09", "WithReplayProtectedHMAC needs a key",
		"WithAllowedIdentifications: no passphrases", `WithAuthEndpoints: "example.com:80"`, "WithListener(nil)", "tls.Config has no certificate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("NewDaemon error lacks %q:\n%v", want, err)
		}
	}
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Item != "NS_PORT" || ce.Value != "70000" {
		t.Errorf("ConfigError: %+v", ce)
	}
	if _, serr := os.Stat(sock); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the daemon bound its socket before failing: %v", serr)
	}

	pcfg := BuiltinConfig()
	pcfg.MaxRetries = -1
	_, err = NewProxy("PYRO:x@localhost:1", pcfg, WithMaxConns(0), WithSerializer("pickle"), WithPeerCertCheck(CheckCommonName("x")))
	if err == nil {
		t.Fatal("NewProxy accepted bad options and config")
	}
	for _, want := range []string{"MAX_RETRIES=-1", "WithMaxConns(0)", "pickle", "peer certificate check needs TLS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("NewProxy error lacks %q:\n%v", want, err)
		}
	}
	if !errors.Is(err, ErrSerialize) {
		t.Errorf("the serializer error is not an ErrSerialize: %v", err)
	}
}

// TestConfigValidate: each item with a range, its bad values, and the
// error naming the item and the value.
func TestConfigValidate(t *testing.T) {
	if err := BuiltinConfig().Validate(); err != nil {
		t.Errorf("builtin config: %v", err)
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	for _, tc := range []struct {
		item, value string
	}{
		{"NS_PORT", "-1"}, {"NS_PORT", "65536"}, {"NS_BCPORT", "100000"}, {"NATPORT", "-5"},
		{"NS_AUTOCLEAN", "-3.0"}, {"COMMTIMEOUT", "-0.5"}, {"POLLTIMEOUT", "-1.0"},
		{"ITER_STREAM_LIFETIME", "-1.0"}, {"ITER_STREAM_LINGER", "-30.0"},
		{"MAX_MESSAGE_SIZE", "-1"}, {"MAX_RETRIES", "-2"}, {"MAXCONNECTIONS", "-1"}, {"PREFER_IP_VERSION", "5"},
	} {
		c := BuiltinConfig()
		if err := c.Set(tc.item, tc.value); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Item != tc.item || ce.Value != tc.value || !strings.Contains(err.Error(), tc.item+"="+tc.value) {
			t.Errorf("%s=%s: %v", tc.item, tc.value, err)
		}
		if _, derr := NewDaemon(c); derr == nil || !strings.Contains(derr.Error(), tc.item+"="+tc.value) {
			t.Errorf("NewDaemon with %s=%s: %v", tc.item, tc.value, derr)
		}
	}
	// values that are fine: negative limits mean "none"
	c := BuiltinConfig()
	for _, kv := range [][2]string{{"IDLE_TIMEOUT", "-1"}, {"REQUEST_TIMEOUT", "-1"}, {"WRITE_TIMEOUT", "-1"},
		{"MEMORY_BUDGET", "-1"}, {"ONEWAY_MAX", "-1"}, {"PREFER_IP_VERSION", "6"}, {"NS_PORT", "0"}} {
		if err := c.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("valid values refused: %v", err)
	}
}

// TestConstructorsCopyConfig: a daemon and a proxy keep their own copy of
// the config: changing the caller's config (or the copy Config returns)
// afterwards changes neither.
func TestConstructorsCopyConfig(t *testing.T) {
	cfg := BuiltinConfig()
	cfg.HMACKey = []byte("key")
	d, u, _ := startDaemon(t, cfg)
	p := newProxy(t, u, cfg)
	cfg.NATHost, cfg.NATPort = "elsewhere.example", 1
	cfg.Metadata = false
	cfg.HMACKey[0] = 'K'
	if got := d.URIFor("x"); got.Host == "elsewhere.example" || got.Port == 1 {
		t.Errorf("the daemon follows the caller's config: %v", got)
	}
	if !p.Config().Metadata {
		t.Error("the proxy follows the caller's config")
	}
	if v, err := p.Call(context.Background(), "echo", "x"); err != nil || v != "x" {
		t.Errorf("the HMAC key changed under the daemon or the proxy: %v %v", v, err)
	}
	dc := d.Config()
	dc.NATHost = "elsewhere.example"
	if d.URIFor("x").Host == "elsewhere.example" {
		t.Error("Daemon.Config returns the daemon's own config")
	}
	pc := p.Config()
	pc.Metadata = false
	if !p.Config().Metadata {
		t.Error("Proxy.Config returns the proxy's own config")
	}
}

// TestProxyForgetsOnItsOwnResolver: a proxy reports a target it could not
// reach to its own resolver (ResolveForgetter), resolves again and uses
// the new answer.
func TestProxyForgetsOnItsOwnResolver(t *testing.T) {
	_, live, _ := startDaemon(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := live
	dead.Host, dead.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there any more
	r := &forgettingResolver{answers: []URI{dead, live}}
	p := newProxy(t, mustParse(t, "PYRONAME:thing@127.0.0.1:9"), nil, WithResolver(r))
	if v, err := p.Call(context.Background(), "echo", "x"); err != nil || v != "x" {
		t.Fatalf("call: %v %v", v, err)
	}
	if len(r.forgotten) != 1 || !r.forgotten[0].Equal(dead) {
		t.Errorf("forgotten %v, want [%v]", r.forgotten, dead)
	}
	// a resolver that caches nothing need not implement Forget
	calls := 0
	plain := ResolverFunc(func(context.Context, URI, *Proxy) (URI, error) { calls++; return live, nil })
	if v, err := newProxy(t, mustParse(t, "PYRONAME:thing"), nil, WithResolver(plain)).Call(context.Background(), "echo", "y"); err != nil || v != "y" || calls != 1 {
		t.Errorf("ResolverFunc: %v %v, %d resolutions", v, err, calls)
	}
}

// forgettingResolver answers with answers[0] until told to forget it,
// then with the next one.
type forgettingResolver struct {
	answers   []URI
	forgotten []URI
}

func (r *forgettingResolver) Resolve(context.Context, URI, *Proxy) (URI, error) {
	return r.answers[0], nil
}

func (r *forgettingResolver) Forget(_, target URI) {
	r.forgotten = append(r.forgotten, target)
	if len(r.answers) > 1 && r.answers[0].Equal(target) {
		r.answers = r.answers[1:]
	}
}

func mustParse(t *testing.T, s string) URI {
	t.Helper()
	u, err := ParseURI(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
