package naming

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/testkit"
)

// spoofedDiscoveryCase is a discovery spoofing scenario: a real name
// server started with realOpts, a fake one (a daemon serving a
// NameServer object of its own, with fakeOpts: what an attacker can set
// up without the real server's secrets) whose address a spoofing
// responder announces faster than the real responder, and a client whose
// Locate gets clientOpts and whose config gets clientCfg.
type spoofedDiscoveryCase struct {
	name       string
	realOpts   []ServerOption
	fakeOpts   []pyro.DaemonOption
	clientCfg  func(*pyro.Config)
	clientOpts []LocateOption
}

// spoofer answers every "GET_NSURI" on 127.0.0.2:port at once with fake.
func spoofer(t *testing.T, port int, fake pyro.URI) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: port})
	if err != nil {
		t.Fatalf("spoofing responder: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 100)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) == discoverRequest {
				c.WriteToUDP([]byte(fake.String()), from)
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
}

// slowRelay forwards discovery requests that reach 127.0.0.3:port to the
// responder at target after a delay, and its answers back: the real name
// server, seen through it, always answers after the spoofer.
func slowRelay(t *testing.T, port int, target *net.UDPAddr, delay time.Duration) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: port})
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	up, err := net.DialUDP("udp4", nil, target)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 100)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			time.Sleep(delay)
			up.Write(buf[:n])
			up.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := up.Read(buf); err == nil {
				c.WriteToUDP(buf[:n], from)
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
		up.Close()
	})
}

// runSpoofedDiscovery runs Locate tries times under a spoofed discovery
// and returns how often the real name server was chosen and how often
// the fake one. The spoofing responder answers at once; the real one is
// reached through a relay that delays it by 50 ms, so it answers last.
func runSpoofedDiscovery(t *testing.T, c spoofedDiscoveryCase, tries int) (real, fake int) {
	t.Helper()
	opts := append([]ServerOption{withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0)}, c.realOpts...)
	s := startNS(t, nil, opts...)
	bcPort := s.Responder().Addr().Port

	// the attacker's name server: answers ping like a real one
	fakeD, err := pyro.NewDaemon(testConfig(), append([]pyro.DaemonOption{pyro.WithHost("127.0.0.1"), pyro.WithPort(0)}, c.fakeOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	fakeURI, err := fakeD.Register(NewNameServer(nil, nil), ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	go fakeD.Serve(context.Background())
	t.Cleanup(func() { fakeD.Close() })
	spoofer(t, bcPort, fakeURI)
	slowRelay(t, bcPort, s.Responder().Addr(), 50*time.Millisecond)

	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.2", "127.0.0.3"}
	cfg.NSHost = "127.0.1.1" // Locate's direct step finds nothing there
	cfg.NSPort = testkit.FreeTCPPort(t)
	cfg.NSBcPort = bcPort
	if c.clientCfg != nil {
		c.clientCfg(cfg)
	}
	ctx := ctxT(t)
	for i := 0; i < tries; i++ {
		p, err := Locate(ctx, append([]LocateOption{WithConfig(cfg)}, c.clientOpts...)...)
		if err != nil {
			t.Errorf("try %d: %v", i, err)
			continue
		}
		switch {
		case p.URI().Equal(s.URI()):
			real++
			if err := NewClient(p).Ping(ctx); err != nil {
				t.Errorf("try %d: the real name server does not answer: %v", i, err)
			}
		case p.URI().Equal(fakeURI):
			fake++
		default:
			t.Errorf("try %d: located %s", i, p.URI())
		}
		p.Close()
	}
	return real, fake
}

// Discovery spoofing (issue 8): a client with an HMAC key, TLS settings or
// a passphrase uses the real name server every time, although a spoofing responder
// answers first with its own name server's address; a client without
// them gets the spoofer's answer, as with Pyro (discovery guarantees
// nothing then).
func TestDiscoverySpoofing(t *testing.T) {
	good, err := devcert.New("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	evil, err := devcert.New("127.0.0.1") // a CA of the attacker's
	if err != nil {
		t.Fatal(err)
	}
	goodServer, _ := good.ServerTLS(false)
	evilServer, _ := evil.ServerTLS(false)
	goodClient, _ := good.ClientTLS(false)
	key := []byte("the name server's key")
	const tries = 10

	for _, c := range []spoofedDiscoveryCase{
		{name: "hmac",
			realOpts:  []ServerOption{WithDaemonOptions(pyro.WithHMACKey(key))},
			fakeOpts:  []pyro.DaemonOption{pyro.WithHMACKey([]byte("the attacker's key"))},
			clientCfg: func(c *pyro.Config) { c.HMACKey = key }},
		{name: "hmac without key on the fake",
			realOpts:  []ServerOption{WithDaemonOptions(pyro.WithHMACKey(key))},
			clientCfg: func(c *pyro.Config) { c.HMACKey = key }},
		{name: "tls",
			realOpts:   []ServerOption{WithDaemonOptions(pyro.WithTLSConfig(goodServer))},
			fakeOpts:   []pyro.DaemonOption{pyro.WithTLSConfig(evilServer)},
			clientOpts: []LocateOption{WithProxyOptions(pyro.WithTLSConfig(goodClient))}},
		{name: "passphrase",
			realOpts:   []ServerOption{WithDaemonOptions(pyro.WithAllowedIdentifications([]string{"ns secret"}))},
			clientOpts: []LocateOption{WithProxyOptions(pyro.WithIdentification("ns secret"))}},
		{name: "passphrase, the fake with a passphrase of its own",
			realOpts:   []ServerOption{WithDaemonOptions(pyro.WithAllowedIdentifications([]string{"ns secret"}))},
			fakeOpts:   []pyro.DaemonOption{pyro.WithAllowedIdentifications([]string{"attacker's secret"})},
			clientOpts: []LocateOption{WithProxyOptions(pyro.WithIdentification("ns secret"))}},
		{name: "tls with a plain fake",
			realOpts:   []ServerOption{WithDaemonOptions(pyro.WithTLSConfig(goodServer))},
			clientOpts: []LocateOption{WithProxyOptions(pyro.WithTLSConfig(goodClient))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			real, fake := runSpoofedDiscovery(t, c, tries)
			t.Logf("real name server chosen %d of %d times, the spoofed one %d", real, tries, fake)
			if real != tries {
				t.Errorf("real name server chosen %d of %d times (the spoofed one %d)", real, tries, fake)
			}
		})
	}

	// without security settings the first answer wins, whoever sent it:
	// the spoofer's (which is what makes the cases above meaningful)
	real, fake := runSpoofedDiscovery(t, spoofedDiscoveryCase{name: "open"}, tries)
	t.Logf("open client: real name server chosen %d of %d times, the spoofed one %d", real, tries, fake)
	if fake < tries/2 {
		t.Errorf("the spoofing responder did not answer first (real %d, fake %d): the test shows nothing", real, fake)
	}
}

// When no answer verifies, Locate's broadcast step fails with an error
// that says so, and goes on to the direct NS_HOST step.
func TestDiscoveryNothingVerifies(t *testing.T) {
	fakeD, err := pyro.NewDaemon(testConfig(), pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		t.Fatal(err)
	}
	fakeURI, _ := fakeD.Register(NewNameServer(nil, nil), ObjectID)
	go fakeD.Serve(context.Background())
	t.Cleanup(func() { fakeD.Close() })
	bcPort := testkit.FreeUDPPort(t)
	spoofer(t, bcPort, fakeURI)
	cfg := testConfig()
	cfg.BroadcastAddrs = []string{"127.0.0.2"}
	cfg.NSBcPort = bcPort
	cfg.HMACKey = []byte("k")
	_, err = locateByBroadcast(ctxT(t), cfg, 0, nil, nil)
	if !errors.Is(err, pyro.ErrNaming) || err == nil || !strings.Contains(err.Error(), "none of the 1 name servers that answered passed verification") {
		t.Errorf("locateByBroadcast: %v", err)
	}
}
