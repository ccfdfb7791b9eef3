package naming

// Security items of issue 5 that concern the name server: the pickle
// trojan (item 1), a hostile environment (item 6), the exposure warning
// (item 2) and passphrases on its daemon (item 9).

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/trojan"
)

// TestPickleTrojanNameServer: the os.system pickle exploit sent to the
// name server in every form is refused and has no effect.
func TestPickleTrojanNameServer(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	payloads := trojan.Handmade(marker)
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err == nil {
		more, err := trojan.FromPython(python, marker)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, more...)
	} else {
		python = ""
	}
	cfg := testConfig()
	cfg.SerializersAccepted = []string{"serpent", "json", "marshal", "msgpack"}
	s := startNS(t, cfg)
	for _, p := range payloads {
		results, err := trojan.Send("tcp", s.Addr().String(), ObjectID, p.Data)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		for _, r := range results {
			if r.Accepted {
				t.Errorf("%s, %s: accepted: %s", p.Name, r.How, r.Answer)
			}
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the exploit ran: %s exists (%v)", marker, err)
	}
	// still serving
	c := nsClient(t, s.URI().String())
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if python != "" {
		if err := trojan.Fire(python, payloads[0].Data); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("the payload does not work on Python, so the test proves nothing: %v", err)
		}
	}
}

// TestNameServerHostileEnvironment: a name server started from the
// built-in config (Start(nil)) ignores PYRO_HOST=0.0.0.0 and
// PYRO_SERIALIZERS_ACCEPTED=pickle.
func TestNameServerHostileEnvironment(t *testing.T) {
	t.Setenv("PYRO_HOST", "0.0.0.0")
	t.Setenv("PYRO_SERIALIZERS_ACCEPTED", "pickle")
	t.Setenv("PYRO_NS_HOST", "0.0.0.0")
	s, err := Start(nil, WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ip := s.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
	results, err := trojan.Send("tcp", s.Addr().String(), ObjectID, trojan.Handmade(filepath.Join(t.TempDir(), "x"))[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].Answer != "CONNECTFAIL: 'message used serializer that is not accepted: 4'" {
		t.Errorf("pickle CONNECT: %s", results[0].Answer)
	}
}

// count returns how many records of rec, as "LEVEL message", contain
// sub.
func count(rec *testkit.LogRecorder, sub string) int {
	n := 0
	for _, m := range rec.Messages() {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// TestNameServerExposureWarning: a name server on all interfaces without
// protection warns at start; with an HMAC key or passphrases it does not.
// With passphrases, clients must prove one.
func TestNameServerExposureWarning(t *testing.T) {
	const warning = "WARN pyro: daemon bound to the network address"
	for _, tc := range []struct {
		name string
		cfg  func(*pyro.Config)
		opts []ServerOption
		want int
	}{
		{"unprotected", func(*pyro.Config) {}, nil, 1},
		{"hmac", func(c *pyro.Config) { c.HMACKey = []byte("k") }, nil, 0},
		{"passphrases", func(*pyro.Config) {}, []ServerOption{WithDaemonOptions(pyro.WithAllowedIdentifications([]string{"ns pass"}))}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &testkit.LogRecorder{}
			cfg := testConfig()
			tc.cfg(cfg)
			opts := append([]ServerOption{WithHost("0.0.0.0"), WithPort(0), WithBroadcast(false), WithLogger(w.Logger())}, tc.opts...)
			s, err := Start(cfg, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// once a client was served, Serve has started (and warned)
			loc := "PYRO:" + ObjectID + "@127.0.0.1:" + strings.TrimPrefix(s.Addr().String()[strings.LastIndex(s.Addr().String(), ":"):], ":")
			var popts []pyro.ProxyOption
			if tc.name == "hmac" {
				popts = append(popts, pyro.WithHMACKey([]byte("k")))
			}
			if tc.name == "passphrases" {
				err := nsClient(t, loc).Ping(ctxT(t))
				if !errors.Is(err, pyro.ErrConnectionDenied) {
					t.Errorf("client without the passphrase: %v", err)
				}
				popts = append(popts, pyro.WithIdentification("ns pass"))
			}
			if err := nsClient(t, loc, popts...).Ping(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if n := count(w, warning); n != tc.want {
				t.Errorf("%d warnings, want %d: %v", n, tc.want, w.Messages())
			}
		})
	}
}
