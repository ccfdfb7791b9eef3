package pytest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Echo5 configures StartEchoServer5.
type Echo5 struct {
	// NameServer is the URI of a name server (PYRO:Pyro.NameServer@host:port)
	// to register "test.echoserver" with (echoserver's -n); empty for none.
	NameServer string
	// UnixSocket serves on this unix socket path instead of TCP.
	UnixSocket string
	// Env holds extra "KEY=value" settings (PYRO_* configuration).
	Env []string
}

// StartEchoServer5 runs Pyro5's test echo server (python -m
// Pyro5.utils.echoserver, what pyro5-echoserver runs) on 127.0.0.1 and a
// port it picks itself (or on o.UnixSocket), and returns its URI. It stops
// with the test; without the Pyro5 peer the test is skipped (failed in CI).
func StartEchoServer5(t testing.TB, o Echo5) string {
	t.Helper()
	args := []string{"-m", "Pyro5.utils.echoserver"}
	if o.UnixSocket != "" {
		args = append(args, "-u", o.UnixSocket)
	} else {
		args = append(args, "-H", "127.0.0.1", "-p", "0")
	}
	env := o.Env
	if o.NameServer != "" {
		host, port := nsHostPort(t, o.NameServer)
		args = append(args, "-n")
		env = append([]string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}, env...)
	}
	s := Cmd{Args: args, Env: env, Pyro5: true, Ready: regexp.MustCompile(`^echo uri: (\S+)`)}.Start(t)
	return s.Ready
}

// nsHostPort splits a name server URI PYRO:obj@host:port.
func nsHostPort(t testing.TB, uri string) (host, port string) {
	t.Helper()
	_, loc, ok := strings.Cut(uri, "@")
	i := strings.LastIndexByte(loc, ':')
	if !ok || i < 0 {
		t.Fatalf("pytest: not a TCP name server URI: %q", uri)
	}
	return strings.Trim(loc[:i], "[]"), loc[i+1:]
}

// NS5 configures StartNameServer5.
type NS5 struct {
	// Port is the TCP port on 127.0.0.1; 0 lets the server pick one.
	Port int
	// UnixSocket serves on this unix socket path instead of TCP.
	UnixSocket string
	// Storage is the -s option: "" or "memory", or "sql:FILE".
	Storage string
	// Broadcast also runs a Pyro5 broadcast responder for the name server
	// on 127.0.0.1 and a free UDP port (Pyro5's name server starts none on
	// a loopback address by itself).
	Broadcast bool
	// Env holds extra "KEY=value" settings (PYRO_* configuration).
	Env []string
}

// NameServer5 is a running Pyro5 name server started by StartNameServer5.
type NameServer5 struct {
	*Server
	// URI is the name server's URI (the "URI = " line it printed).
	URI string
	// BcPort is the UDP port of the broadcast responder on 127.0.0.1, or 0.
	BcPort int
}

const bcResponder5 = `import sys, time, Pyro5.core, Pyro5.nameserver
bc = Pyro5.nameserver.BroadcastServer(Pyro5.core.URI(sys.argv[1]), bchost="127.0.0.1", bcport=0)
bc.runInThread()
print("READY %d" % bc.sock.getsockname()[1])
while True:
    time.sleep(3600)
`

// StartNameServer5 runs Pyro5's name server (python -m Pyro5.nameserver,
// what pyro5-ns runs) on 127.0.0.1 without a broadcast server, and, with
// o.Broadcast, a broadcast responder for it on 127.0.0.1. Both stop with
// the test; without the Pyro5 peer the test is skipped (failed in CI).
func StartNameServer5(t testing.TB, o NS5) *NameServer5 {
	t.Helper()
	args := []string{"-m", "Pyro5.nameserver", "-x"}
	if o.UnixSocket != "" {
		args = append(args, "-u", o.UnixSocket)
	} else {
		args = append(args, "-n", "127.0.0.1", "-p", strconv.Itoa(o.Port))
	}
	if o.Storage != "" {
		args = append(args, "-s", o.Storage)
	}
	s := Cmd{Args: args, Env: o.Env, Pyro5: true, Ready: regexp.MustCompile(`^(?:external )?URI = (.*)$`)}.Start(t)
	ns := &NameServer5{Server: s, URI: s.Ready}
	if o.Broadcast {
		bc := Cmd{Args: []string{"-c", bcResponder5, ns.URI}, Env: o.Env, Pyro5: true}.Start(t)
		port, err := strconv.Atoi(bc.Ready)
		if err != nil {
			t.Fatalf("pytest: broadcast responder said %q", bc.Ready)
		}
		ns.BcPort = port
	}
	return ns
}
