package pyro

// The security suite, items 3 and 2: unix socket modes and peer
// credentials, network binding and the exposure warning; see
// security_internal_test.go.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"

	"github.com/pyrogo/pyro/wire"
)

// ---------------------------------------------------------------------------
// item 3: unix sockets and peer credentials

func TestUnixSocketMode(t *testing.T) {
	dir := t.TempDir()
	mode := func(opts ...DaemonOption) os.FileMode {
		t.Helper()
		path := filepath.Join(dir, fmt.Sprintf("s%d", time.Now().UnixNano()))
		d, err := NewDaemon(nil, append([]DaemonOption{WithUnixSocket(path)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	if m := mode(); m != 0o600 {
		t.Errorf("default mode %#o, want 0600", m)
	}
	if m := mode(WithUnixSocketMode(0o660)); m != 0o660 {
		t.Errorf("mode %#o, want 0660", m)
	}
}

func TestPeerCredentials(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_PEERCRED is Linux only")
	}
	uid := os.Getuid()
	var got PeerCred
	var mu sync.Mutex
	record := WithHandshake(func(_ context.Context, c *ConnInfo, _ any) (any, error) {
		pc, err := c.PeerCredentials()
		mu.Lock()
		got = pc
		mu.Unlock()
		return "hello", err
	})
	// only another uid listed: we are refused
	_, u, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "a")), WithConnValidators(AllowPeerCredentials([]int{uid + 4242}, nil)))
	_, err := newProxy(t, u, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, fmt.Sprintf("security reasons: uid %d not allowed", uid))
	// our uid (or our gid) listed: accepted, and the handshake sees who we are
	for _, v := range []ConnValidator{AllowPeerCredentials([]int{uid + 1, uid}, nil), AllowPeerCredentials(nil, []int{os.Getgid()})} {
		_, u2, _ := startDaemon(t, nil, WithUnixSocket(filepath.Join(t.TempDir(), "b")), WithConnValidators(v), record)
		if _, err := newProxy(t, u2, nil).Call(context.Background(), "echo", 1); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if got.UID != uid || got.PID != os.Getpid() || got.GID != os.Getgid() {
			t.Errorf("peer credentials %+v", got)
		}
		mu.Unlock()
	}
	// TCP connections have no peer credentials: refused
	_, u3, _ := startDaemon(t, nil, WithConnValidators(AllowPeerCredentials([]int{uid}, nil)))
	_, err = newProxy(t, u3, nil).Call(context.Background(), "echo", 1)
	wantDenied(t, err, "peer credentials unavailable")
}

// ---------------------------------------------------------------------------
// item 2: network binding

// servingDaemon starts d with a Thing and waits until its accept loop
// runs (the exposure warning is logged before that).
func servingDaemon(t *testing.T, d *Daemon) {
	t.Helper()
	if _, err := d.Register(&Thing{}, "thing"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.Serve(context.Background()) }()
	t.Cleanup(func() { d.Close(); <-served })
	network, addr := "tcp", ""
	switch a := d.Addr().(type) {
	case *net.TCPAddr:
		addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	case *net.UnixAddr:
		network, addr = "unix", a.Name
	}
	// a dial alone completes in the kernel's backlog: wait for an answer
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	wire.WriteMessage(nc, rawpyro.ConnectMessage("thing"), nil)
	if _, err := wire.ReadMessage(bufio.NewReader(nc), nil); err != nil && !errors.Is(err, wire.ErrSecurity) {
		t.Fatalf("daemon not serving: %v", err)
	}
}

func TestExposureWarning(t *testing.T) {
	const warning = "anyone who can connect can call its objects"
	cases := []struct {
		name string
		opts func(t *testing.T) []DaemonOption
		warn string
	}{
		{"all interfaces", func(*testing.T) []DaemonOption { return []DaemonOption{WithHost("0.0.0.0")} }, "bound to the network address "},
		{"all interfaces with HMAC", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithHost("0.0.0.0"), WithHMACKey([]byte("k"))}
		}, ""},
		{"all interfaces with passphrases", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithHost("0.0.0.0"), WithAllowedIdentifications([]string{"p"})}
		}, ""},
		{"loopback", func(*testing.T) []DaemonOption { return nil }, ""},
		{"unix socket", func(t *testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(filepath.Join(t.TempDir(), "s"))}
		}, ""},
		{"shared unix socket", func(t *testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(filepath.Join(t.TempDir(), "s")), WithUnixSocketMode(0o666)}
		}, "unix socket other users may connect to (mode 0666)"},
		{"abstract socket", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(fmt.Sprintf("@pyrogo-warn-%d", time.Now().UnixNano()))}
		}, "abstract unix socket"},
		{"abstract socket with peer credentials", func(*testing.T) []DaemonOption {
			return []DaemonOption{WithUnixSocket(fmt.Sprintf("@pyrogo-warn-%d", time.Now().UnixNano())),
				WithConnValidators(AllowPeerCredentials([]int{os.Getuid()}, nil))}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &testkit.LogRecorder{}
			d, err := NewDaemon(nil, append(tc.opts(t), WithLogger(rec.Logger()))...)
			if err != nil {
				t.Fatal(err)
			}
			servingDaemon(t, d)
			logs := rec.Find(warning)
			switch {
			case tc.warn == "" && len(logs) > 0:
				t.Errorf("unexpected warning %v", logs)
			case tc.warn != "" && (len(logs) != 1 || !strings.Contains(logs[0]["msg"], tc.warn) || logs[0]["level"] != "WARN"):
				t.Errorf("warning %v, want one containing %q", logs, tc.warn)
			}
		})
	}
}

// TestHostInCodeWinsOverEnv: a host given in code beats PYRO_HOST, even
// with the environment-reading config.
func TestHostInCodeWinsOverEnv(t *testing.T) {
	t.Setenv("PYRO_HOST", "0.0.0.0")
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDaemon(cfg, WithHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ip := d.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
	cfg.Host = "localhost" // set in code after loading the environment
	d2, err := NewDaemon(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if ip := d2.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
}
