package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/naming"
)

// esRun is an in-process "pyro es".
type esRun struct {
	stdout, stderr *testkit.Buffer
	finished       chan struct{}
	code           int
	cancel         context.CancelFunc
	uri            pyro.URI
	srv            *events.Server // set by startESCmd
	ready          chan *events.Server
}

// runESCmd runs esMain in a goroutine; it is stopped in t.Cleanup. It
// does not wait for the server to be ready.
func runESCmd(t *testing.T, environ []string, opts esOptions, args ...string) *esRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &esRun{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}, finished: make(chan struct{}), cancel: cancel,
		ready: make(chan *events.Server, 1)}
	opts.ready = func(s *events.Server) { r.ready <- s }
	go func() {
		defer close(r.finished)
		r.code = esMain(ctx, args, r.stdout, r.stderr, environ, opts)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(waitLimit):
			t.Error("pyro es did not stop")
		}
	})
	return r
}

// startESCmd runs "pyro es" and waits until it has started.
func startESCmd(t *testing.T, environ []string, opts esOptions, args ...string) *esRun {
	t.Helper()
	r := runESCmd(t, environ, opts, args...)
	select {
	case r.srv = <-r.ready:
	case <-r.finished:
		t.Fatalf("pyro es did not start (exit %d); stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	case <-time.After(waitLimit):
		t.Fatalf("pyro es did not start; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	line, _ := r.stdout.WaitLine("URI = ", r.finished)
	r.uri = mustParseURI(t, strings.TrimPrefix(line, "URI = "))
	return r
}

// wait waits for the command to end and returns its exit code.
func (r *esRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.finished:
		return r.code
	case <-time.After(waitLimit):
		t.Fatalf("pyro es did not exit; stdout:\n%s", r.stdout)
		return -1
	}
}

// stop ends the server as SIGINT would and returns its exit code.
func (r *esRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

// nsEnv starts "pyro ns" on loopback and returns it with the environment
// that makes locate find it (and no broadcast answer from elsewhere).
func nsEnv(t *testing.T, nsArgs []string, extra ...string) (*nsRun, []string) {
	t.Helper()
	ns := startNSCmd(t, cleanEnviron(extra...), append([]string{"-n", "127.0.0.1", "-p", "0", "-x"}, nsArgs...)...)
	env := cleanEnviron(append([]string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(ns.uri.Port),
		"PYRO_NS_BCPORT=" + strconv.Itoa(testkit.FreeUDPPort(t))}, extra...)...)
	return ns, env
}

// nsLookup looks name up in the name server at ns.
func nsLookup(t *testing.T, ns pyro.URI, name string, popts ...pyro.ProxyOption) (pyro.URI, error) {
	t.Helper()
	p, err := pyro.NewProxyURI(ns, nil, popts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	return naming.NewClient(p).Lookup(context.Background(), name)
}

var esPortRE = regexp.MustCompile(`:\d{2,5}\b`)

// pyro es prints Pyro3's lines and pyro ns's URI line, registers in the
// name server found by the usual locate and removes its registration at
// shutdown; -N does not register; -u serves a unix socket.
func TestESStartupAndRegistration(t *testing.T) {
	ns, env := nsEnv(t, nil)
	r := startESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	if r.uri.Object != events.ObjectID || r.uri.Host != "127.0.0.1" || r.uri.Port == 0 {
		t.Errorf("URI %s", r.uri)
	}
	if u, err := nsLookup(t, ns.uri, events.ObjectID); err != nil || u.String() != r.uri.String() {
		t.Errorf("name server has %v (%v), want %s", u, err, r.uri)
	}
	// Go client by name
	ctx := context.Background()
	loc := "PYRONAME:Pyro.EventService@127.0.0.1:" + strconv.Itoa(ns.uri.Port)
	s, err := events.Subscribe(ctx, loc, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Publish(ctx, loc, []string{"Hello"}, "world"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range s.Events(ctx) {
		if err != nil || ev.Msg != "world" || ev.Subject != "Hello" {
			t.Errorf("event %+v %v", ev, err)
		}
		break
	}
	s.Close(ctx)

	// a second event server while this one answers: refused, and the
	// registration stays the first one's
	second := runESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	if code := second.wait(t); code != exitRemote || !strings.Contains(second.stderr.String(), "already registered as Pyro.EventService at "+r.uri.String()+" and answers") {
		t.Errorf("second event server: exit %d, stderr %q", code, second.stderr)
	}
	if u, _ := nsLookup(t, ns.uri, events.ObjectID); u.String() != r.uri.String() {
		t.Errorf("registration changed to %s", u)
	}

	if code := r.stop(t); code != exitOK {
		t.Errorf("exit %d: %s", code, r.stderr)
	}
	want := `*** Pyro Event Server ***
ES running on 127.0.0.1:PORT (127.0.0.1)
Warning: HMAC key not set. Anyone can connect to this server!
URI = PYRO:Pyro.EventService@127.0.0.1:PORT
Registered Pyro.EventService in the name server at PYRO:Pyro.NameServer@127.0.0.1:PORT
Event Server started.
Event Server gracefully stopped.
`
	if got := esPortRE.ReplaceAllString(r.stdout.String(), ":PORT"); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if _, err := nsLookup(t, ns.uri, events.ObjectID); !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("registration left behind: %v", err)
	}

	// a stale registration (nobody answers there) is replaced
	nsp, err := pyro.NewProxyURI(ns.uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nsp.Close()
	stale := "PYRO:Pyro.EventService@127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
	if err := naming.NewClient(nsp).Register(ctx, events.ObjectID, stale, false, nil); err != nil {
		t.Fatal(err)
	}
	r = startESCmd(t, env, esOptions{}, "-n", "127.0.0.1", "-p", "0")
	if u, err := nsLookup(t, ns.uri, events.ObjectID); err != nil || u.String() != r.uri.String() {
		t.Errorf("stale registration not replaced: %v %v", u, err)
	}
	// replaced meanwhile by someone else: the shutdown leaves it alone
	if err := naming.NewClient(nsp).Register(ctx, events.ObjectID, stale, false, nil); err != nil {
		t.Fatal(err)
	}
	r.stop(t)
	if u, err := nsLookup(t, ns.uri, events.ObjectID); err != nil || u.String() != stale {
		t.Errorf("another server's registration removed at shutdown: %v %v", u, err)
	}

	// -N: no registration, no name server needed
	r = startESCmd(t, cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=1"), esOptions{}, "-n", "127.0.0.1", "-N")
	if !strings.Contains(r.stdout.String(), "Not using a name server.\n") {
		t.Errorf("-N output:\n%s", r.stdout)
	}
	if err := events.Publish(ctx, r.uri, []string{"x"}, 1); err != nil {
		t.Errorf("publish to -N server: %v", err)
	}
	r.stop(t)

	// NAT: the URI (and so the registration) has the external address
	r = startESCmd(t, cleanEnviron(), esOptions{}, "-n", "127.0.0.1", "-N", "--nathost", "nat.example", "--natport", "4242")
	if r.uri.String() != "PYRO:Pyro.EventService@nat.example:4242" || !strings.Contains(r.stdout.String(), "ES running on 127.0.0.1:") {
		t.Errorf("NAT: URI %s, output:\n%s", r.uri, r.stdout)
	}
	r.stop(t)

	// -u: a unix socket, registered with its ./u: URI
	sock := filepath.Join(t.TempDir(), "es.sock")
	r = startESCmd(t, env, esOptions{}, "-u", sock)
	if r.uri.Sockname != sock || !strings.Contains(r.stdout.String(), "(Unix domain socket)") {
		t.Errorf("unix socket: URI %s, output:\n%s", r.uri, r.stdout)
	}
	if u, err := nsLookup(t, ns.uri, events.ObjectID); err != nil || u.String() != r.uri.String() {
		t.Errorf("unix socket registration: %v %v", u, err)
	}
	if err := events.Publish(ctx, "PYRONAME:Pyro.EventService@127.0.0.1:"+strconv.Itoa(ns.uri.Port), []string{"x"}, 1); err != nil {
		t.Errorf("publish through the unix socket: %v", err)
	}
}

// Without a name server pyro es fails at once (Pyro3 did too) and says
// how to run without one; bad flags and storage specs are usage errors.
func TestESStartErrors(t *testing.T) {
	env := cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+strconv.Itoa(testkit.FreeTCPPort(t)),
		"PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)))
	r := runESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	if code := r.wait(t); code != exitRemote || !strings.Contains(r.stderr.String(), "pyro es: cannot register Pyro.EventService: ") ||
		!strings.Contains(r.stderr.String(), "Failed to locate the nameserver") || !strings.Contains(r.stderr.String(), "-N") {
		t.Errorf("no name server: exit %d, stderr %q", code, r.stderr)
	}
	// a signal while it waits for a name server that never answers ends it
	// cleanly
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	env = cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+strconv.Itoa(silent.Addr().(*net.TCPAddr).Port),
		"PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)))
	r = runESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	if _, ok := r.stdout.WaitLine("URI = ", r.finished); !ok {
		t.Fatalf("no URI line: %s", r.stderr)
	}
	if code := r.stop(t); code != exitOK || !strings.HasSuffix(r.stdout.String(), "Event Server gracefully stopped.\n") {
		t.Errorf("signal while locating: exit %d, stdout %q, stderr %q", code, r.stdout, r.stderr)
	}

	for _, tc := range []struct {
		args    []string
		env     []string
		message string
	}{
		{[]string{"-s", "bogus"}, nil, `invalid event storage "bogus" (known: memory`},
		{[]string{"-s", "nosuch:file"}, nil, `invalid event storage "nosuch:file"`},
		{[]string{"-p", "x"}, nil, `invalid value "x" for flag -p`},
		{[]string{"extra"}, nil, `unexpected arguments: ["extra"]`},
		{[]string{"-u", "/tmp/x.sock", "-p", "1"}, nil, "-u and -p exclude each other"},
		{[]string{"--bogus"}, nil, "flag provided but not defined: -bogus"},
		{nil, []string{"PYRO_ES_QUEUESIZE=many"}, "ES_QUEUESIZE"},
		{[]string{"-k", "a"}, []string{"PYRO_HMAC_KEY=b"}, "don't use -k and PYRO_HMAC_KEY at the same time"},
		// until a package registers "sql" (events/sqlstore), its spec is
		// refused like any unknown one (skipped below once it is)
		{[]string{"-s", "sql:" + filepath.Join(t.TempDir(), "es.db")}, nil, `invalid event storage "sql:`},
	} {
		if tc.args != nil && tc.args[0] == "-s" && strings.HasPrefix(tc.args[1], "sql:") && slices.Contains(events.StoreSchemes(), "sql") {
			continue
		}
		r := runESCmd(t, cleanEnviron(tc.env...), esOptions{}, append([]string{"-N", "-n", "127.0.0.1"}, tc.args...)...)
		if code := r.wait(t); code != exitUsage || !strings.Contains(r.stderr.String(), tc.message) {
			t.Errorf("%v %v: exit %d, stderr %q, want %q", tc.args, tc.env, code, r.stderr, tc.message)
		}
		if strings.Contains(r.stdout.String(), "Event Server started.") {
			t.Errorf("%v: started", tc.args)
		}
	}
	// a taken port is a failure to run, not a usage error
	r = startESCmd(t, cleanEnviron(), esOptions{}, "-N", "-n", "127.0.0.1")
	taken := runESCmd(t, cleanEnviron(), esOptions{}, "-N", "-n", "127.0.0.1", "-p", strconv.Itoa(r.uri.Port))
	if code := taken.wait(t); code != exitRemote {
		t.Errorf("taken port: exit %d, stderr %q", code, taken.stderr)
	}
}

// pyroES starts "pyro es" for the shared event scenarios with the
// settings they give pyes.py: queue settings through the PYRO_ES_*
// environment (so the command's config reaches the service), retries and
// the delivery serializer through the test hook (no flag has them).
func pyroES(t testing.TB, o pytest.PyES) pytest.ESUnderTest {
	tt := t.(*testing.T)
	def := func(v, d time.Duration) time.Duration {
		if v <= 0 {
			return d
		}
		return v
	}
	size, failures := o.QueueSize, o.MaxFailures
	if size <= 0 {
		size = 1000
	}
	if failures <= 0 {
		failures = 3
	}
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	env := []string{
		"PYRO_ES_QUEUESIZE=" + strconv.Itoa(size),
		"PYRO_ES_BLOCKQUEUE=" + strconv.FormatBool(!o.NoBlock),
		"PYRO_ES_BLOCKTIMEOUT=" + secs(def(o.BlockTimeout, 5*time.Second)),
		"PYRO_COMMTIMEOUT=" + secs(def(o.Timeout, 5*time.Second)),
		"PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack",
	}
	args := []string{"-n", "127.0.0.1"}
	if o.NameServer != "" {
		u := mustParseURI(tt, o.NameServer)
		env = append(env, "PYRO_NS_HOST="+u.Host, "PYRO_NS_PORT="+strconv.Itoa(u.Port), "PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)))
	} else {
		args = append(args, "-N")
	}
	opts := esOptions{serverOpts: []events.ServerOption{events.WithRetry(failures, def(o.Backoff, 50*time.Millisecond), 5*time.Second)}}
	if o.Serializer != "" {
		opts.serverOpts = append(opts.serverOpts, events.WithProxyOptions(pyro.WithSerializer(o.Serializer)))
	}
	r := startESCmd(tt, cleanEnviron(env...), opts, args...)
	svc := r.srv.Service()
	return pytest.ESUnderTest{
		URI: r.uri.String(),
		Removed: func(sub string) bool {
			st := svc.Stats()
			_, present := st.Subs[sub]
			return st.Removed > 0 && !present
		},
		DroppedFor: func(sub string) int { return int(svc.Stats().Subs[sub].Dropped) },
	}
}

// Python Pyro4 publishers and subscribers (their own daemons as
// subscribers) against "pyro es": the shared scenarios.
func TestPyEventsFanoutPyroES(t *testing.T) { pytest.ESFanoutScenario(t, pyroES, "serpent") }

// Found through "pyro ns" as PYRONAME:Pyro.EventService, where pyro es
// registered itself.
func TestPyEventsUnsubscribePyroES(t *testing.T) {
	ns, _ := nsEnv(t, nil)
	pytest.ESUnsubscribeScenario(t, pyroES, ns.uri.String())
}

// PYRO_ES_QUEUESIZE and PYRO_ES_BLOCKQUEUE=false reach the service.
func TestPyEventsFullQueueDropsPyroES(t *testing.T) { pytest.ESFullQueueDropScenario(t, pyroES) }

// Pyro5 publisher and subscriber (skipped like the other Pyro5 tests
// when the Pyro5 peer is missing).
func TestPyEventsPyro5PyroES(t *testing.T) { pytest.ESPyro5Scenario(t, pyroES) }

// An HMAC key (PYRO_HMAC_KEY) protects pyro es: Python Pyro4 clients
// without it or with another one are refused with Pyro4's own errors;
// with it a Python subscriber (its daemon with the key) gets the event of
// a Python publisher.
func TestESHMACKeyPython(t *testing.T) {
	r := startESCmd(t, cleanEnviron("PYRO_HMAC_KEY=es key"), esOptions{}, "-N", "-n", "127.0.0.1")
	if strings.Contains(r.stdout.String(), "Anyone can connect") {
		t.Errorf("open-server warning with a key:\n%s", r.stdout)
	}
	res := pytest.Cmd{Args: []string{"-c", `import sys, threading, Pyro4
uri = sys.argv[1]
for key in (None, b"other key"):
    p = Pyro4.Proxy(uri)
    if key:
        p._pyroHmacKey = key
    try:
        p.publish("x", 1)
        print("published without the key", key)
    except Pyro4.errors.CommunicationError as e:
        print("refused:", e)
got = threading.Event()
@Pyro4.expose
class Sub(object):
    @Pyro4.oneway
    def event(self, ev):
        print("event:", ev["subject"], ev["msg"])
        got.set()
d = Pyro4.Daemon(host="127.0.0.1")
d._pyroHmacKey = b"es key"
sub = d.register(Sub())
threading.Thread(target=d.requestLoop, daemon=True).start()
es = Pyro4.Proxy(uri)
es._pyroHmacKey = b"es key"
es.subscribe("Lab", sub)
pub = Pyro4.Proxy(uri)
pub._pyroHmacKey = b"es key"
pub.publish("lab", "with the key")
print("delivered:", got.wait(30))
`, r.uri.String()}}.Run(t)
	want := "refused: cannot connect to ('127.0.0.1', " + strconv.Itoa(r.uri.Port) + "): hmac key config not symmetric\n" +
		"refused: cannot connect to ('127.0.0.1', " + strconv.Itoa(r.uri.Port) + "): message hmac mismatch\n" +
		"event: lab with the key\ndelivered: True\n"
	if res.Stdout != want {
		t.Errorf("python:\n%s\nwant:\n%s\nstderr:\n%s", res.Stdout, want, res.Stderr)
	}
}

// Passphrases (--passphrase-file) protect pyro es, and the first one
// identifies it to a name server that requires them too.
func TestESPassphrase(t *testing.T) {
	server := writeSecret(t, "allowed", "es passphrase\nother\n", 0o600)
	ns, env := nsEnv(t, nil, "PYRO_PASSPHRASE_FILE="+server)
	r := startESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	out := r.stdout.String()
	if !strings.Contains(out, "Requiring connection authentication.\n") || strings.Contains(out, "Anyone can connect") {
		t.Errorf("output:\n%s", out)
	}
	if u, err := nsLookup(t, ns.uri, events.ObjectID, pyro.WithIdentification("other")); err != nil || u.String() != r.uri.String() {
		t.Errorf("registration: %v %v", u, err)
	}
	ctx := context.Background()
	if err := events.Publish(ctx, r.uri, []string{"x"}, 1); !errors.Is(err, pyro.ErrConnectionDenied) ||
		!strings.Contains(err.Error(), "passphrase authentication required") {
		t.Errorf("publish without a passphrase: %v", err)
	}
	if err := events.Publish(ctx, r.uri, []string{"x"}, 1, pyro.WithIdentification("wrong")); !errors.Is(err, pyro.ErrConnectionDenied) {
		t.Errorf("publish with a wrong passphrase: %v", err)
	}
	if err := events.Publish(ctx, r.uri, []string{"x"}, 1, pyro.WithIdentification("other")); err != nil {
		t.Errorf("publish with a passphrase: %v", err)
	}
	// a name server that does not know it: the registration fails
	_, env2 := nsEnv(t, nil)
	r2 := runESCmd(t, env2, esOptions{}, "-n", "127.0.0.1", "--passphrase-file", server)
	if code := r2.wait(t); code != exitRemote || !strings.Contains(r2.stderr.String(), "cannot register Pyro.EventService") {
		t.Errorf("passphrase against an open name server: exit %d, %q", code, r2.stderr)
	}
}

// Mutual TLS: pyro ns and pyro es require client certificates; pyro es
// registers over TLS with its client certificate, a Go client publishes
// by name, and a Go subscriber (a TLS daemon) gets the event the service
// delivers over TLS. A plaintext client is refused.
func TestESTLS(t *testing.T) {
	dir, _, clientEnv := makeCerts(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	serverFlags := []string{"--ssl-servercert", file("server.crt"), "--ssl-serverkey", file("server.key"),
		"--ssl-cacerts", file("ca.crt"), "--ssl-requireclientcert"}
	ns := startNSCmd(t, cleanEnviron(), append([]string{"-n", "127.0.0.1", "-p", "0", "-x"}, serverFlags...)...)
	env := cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+strconv.Itoa(ns.uri.Port), "PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)))
	r := startESCmd(t, env, esOptions{}, append(append([]string{"-n", "127.0.0.1"}, serverFlags...),
		"--ssl-clientcert", file("client.crt"), "--ssl-clientkey", file("client.key"))...)
	if strings.Contains(r.stdout.String(), "Anyone can connect") {
		t.Errorf("open-server warning with mutual TLS:\n%s", r.stdout)
	}
	ccfg, err := loadConfig(cleanEnviron(clientEnv...))
	if err != nil {
		t.Fatal(err)
	}
	// the subscriber's daemon serves TLS with the server certificate
	scfg := ccfg.Clone()
	for k, v := range map[string]string{"SSL_SERVERCERT": file("server.crt"), "SSL_SERVERKEY": file("server.key"), "SSL_REQUIRECLIENTCERT": "true"} {
		if err := scfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	name := "PYRONAME:Pyro.EventService@127.0.0.1:" + strconv.Itoa(ns.uri.Port)
	es, err := pyro.NewProxy(name, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	s, err := events.Subscribe(ctx, es, []string{"secure"}, events.WithConfig(scfg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := events.Publish(ctx, es, []string{"secure"}, "over tls"); err != nil {
		t.Fatal(err)
	}
	for ev, err := range s.Events(ctx) {
		if err != nil || ev.Msg != "over tls" {
			t.Errorf("event %+v %v", ev, err)
		}
		break
	}
	if err := events.Publish(ctx, r.uri, []string{"secure"}, "plain"); err == nil {
		t.Error("plaintext publish accepted")
	}
}

// SIGTERM: the pyro es process removes its registration and exits 0 even
// with a subscriber that never answers holding queued events: the
// shutdown deadline bounds the wait.
func TestESSIGTERM(t *testing.T) {
	bin := testkit.PyroCommand(t)
	ns, env := nsEnv(t, nil)
	cmd := exec.Command(bin, "es", "-n", "127.0.0.1")
	cmd.Env = env
	p := testkit.StartProcess(t, cmd, testkit.Prefix("URI = "))
	if _, ok := p.Output.WaitLine("Event Server started.", p.Exited); !ok {
		t.Fatalf("not started:\n%s", p.Output)
	}
	uri := mustParseURI(t, p.Ready)
	if u, err := nsLookup(t, ns.uri, events.ObjectID); err != nil || u.String() != uri.String() {
		t.Fatalf("registration: %v %v", u, err)
	}
	// a subscriber that accepts connections and never answers
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	es, err := pyro.NewProxyURI(uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	ctx := context.Background()
	if _, err := es.Call(ctx, "subscribe", "s", "PYRO:stuck@"+ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := es.Call(ctx, "publish", "s", i); err != nil {
			t.Fatal(err)
		}
	}
	es.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited:
	case <-time.After(waitLimit):
		t.Fatalf("pyro es still running %v after SIGTERM:\n%s", waitLimit, p.Output)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d:\n%s", code, p.Output)
	}
	if !strings.Contains(p.Output.String(), "Event Server gracefully stopped.") {
		t.Errorf("output:\n%s", p.Output)
	}
	if _, err := nsLookup(t, ns.uri, events.ObjectID); !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("registration left behind: %v", err)
	}
}

// TestReadmePyronameEvents runs README.md's es_pyroname.py block against
// "pyro ns" and "pyro es" and checks that it prints what the README says.
func TestReadmePyronameEvents(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(pytest.ModuleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```python\n# es_pyroname.py")
	if !ok {
		t.Fatal("README.md has no es_pyroname.py block")
	}
	script, rest, _ := strings.Cut(rest, "```")
	_, shown, _ := strings.Cut(rest, "$ /usr/bin/python3 es_pyroname.py\n")
	shown, _, _ = strings.Cut(shown, "```")
	path := filepath.Join(t.TempDir(), "es_pyroname.py")
	if err := os.WriteFile(path, []byte("# es_pyroname.py"+script), 0o644); err != nil {
		t.Fatal(err)
	}
	ns, env := nsEnv(t, nil)
	startESCmd(t, env, esOptions{}, "-n", "127.0.0.1")
	res := pytest.Cmd{Args: []string{path}, Env: []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(ns.uri.Port)}}.Run(t)
	if res.ExitCode != 0 || res.Stdout != shown || shown == "" {
		t.Errorf("es_pyroname.py: exit %d\ngot:\n%s\nREADME says:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, shown, res.Stderr)
	}
}

// --policy FILE: Python Pyro4 clients that find pyro es by name may
// publish and subscribe what the policy allows; a refused publish or
// subscription is a SecurityError naming what was denied; a syntax
// error in FILE is a usage error naming the line.
func TestESPolicyPython(t *testing.T) {
	policy := writeSecret(t, "es.policy", `# lab clients
allow connect
allow publish subject=lab.*
allow subscribe subject=lab.temp
`, 0o600)
	ns, env := nsEnv(t, nil)
	startESCmd(t, env, esOptions{}, "-n", "127.0.0.1", "--policy", policy)
	pyEnv := []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(ns.uri.Port)}
	got := pytest.RunPyAttempts(t, "PYRONAME:Pyro.EventService", false, pyEnv,
		"publish:lab.temp", "publish:office.door", "subscribe:Lab.Temp:self", "subscribe:lab.door:self", "subscribeMatch:lab.*:self")
	want := []struct {
		ok  bool
		msg string
	}{
		{true, ""},
		{false, `event server policy denies publish of "office.door"`},
		{true, ""},
		{false, `event server policy denies subscribe of "lab.door"`},
		{false, "denies subscribeMatch"},
	}
	for i, a := range got {
		if a.OK != want[i].ok || (!a.OK && (a.Error != "SecurityError" || !strings.Contains(a.Msg, want[i].msg))) {
			t.Errorf("%s: %+v, want ok=%v %q", a.Step, a, want[i].ok, want[i].msg)
		}
	}

	bad := writeSecret(t, "bad.policy", "allow connect\nallow fly\n", 0o600)
	r := runESCmd(t, cleanEnviron(), esOptions{}, "-N", "-n", "127.0.0.1", "--policy", bad)
	if code := r.wait(t); code != exitUsage || !strings.Contains(r.stderr.String(), "line 2") {
		t.Errorf("bad policy: exit %d, %q", code, r.stderr)
	}
}
