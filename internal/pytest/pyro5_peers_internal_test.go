package pytest

// The Pyro5 peers proven against Python Pyro5 itself: the client runner
// (testdata/interop5/pycall5.py) against Pyro5's echo server and the
// Pyro5 test server (testdata/interop5/pyserver5.py) over all four
// serializers, Pyro5's nsc against Pyro5's name server, and the starters.
// What Pyro5 answers is recorded in testdata/interop5/golden (go test
// ./internal/pytest -run Pyro5 -update rewrites it); pyrogo's Pyro5
// interop tests compare their answers with these files.

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/interop5/golden with what Pyro5 answers")

var serializers5 = []string{"serpent", "json", "marshal", "msgpack"}

func checkOrRecord(t *testing.T, name string, results []Result5, loose ...string) {
	t.Helper()
	if *update {
		WriteGolden5(t, name, results)
		return
	}
	CheckGolden5(t, name, results, loose...)
}

// byName indexes results by step name.
func byName(t *testing.T, results []Result5) map[string]Result5 {
	t.Helper()
	m := map[string]Result5{}
	for _, r := range results {
		if _, dup := m[r.Name]; dup {
			t.Fatalf("step %s twice", r.Name)
		}
		m[r.Name] = r
	}
	return m
}

// want checks one result: value is the canonical JSON of an ok result,
// or "!" + the exception class (then message must be in its message).
func want(t *testing.T, rs map[string]Result5, name, value, message string) {
	t.Helper()
	r, ok := rs[name]
	switch {
	case !ok:
		t.Errorf("%s: no result", name)
	case strings.HasPrefix(value, "!"):
		if r.OK || r.Class != value[1:] || !strings.Contains(r.Message, message) {
			t.Errorf("%s: %s, want %s with %q", name, r, value[1:], message)
		}
	case !r.OK || r.ValueJSON() != value:
		t.Errorf("%s: %s, want %s", name, r, value)
	}
}

func TestPyro5PeerFound(t *testing.T) {
	p := Pyro5(t)
	if !strings.HasPrefix(p.Version, "5.") {
		t.Errorf("version %q", p.Version)
	}
	if _, err := os.Stat(filepath.Join(p.Source, "Pyro5", "nameserver.py")); err != nil {
		t.Error(err)
	}
	// a directory without Pyro5 is refused with a message that says where
	// to point PYROGO_PYRO5
	_, err := findPyro5(Python(t), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), Pyro5Env) {
		t.Errorf("empty directory: %v", err)
	}
	// a tree whose Pyro5 is not 5.x is refused
	fake := t.TempDir()
	if err := os.MkdirAll(filepath.Join(fake, "Pyro5"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fake, "Pyro5", "__init__.py"), []byte("__version__ = '4.0'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findPyro5(Python(t), fake); err == nil || !strings.Contains(err.Error(), "need 5.x") {
		t.Errorf("Pyro5 4.0: %v", err)
	}
	// the override names the tree to use
	t.Setenv(Pyro5Env, p.Source+string(filepath.Separator)+".")
	if got := Pyro5Source(); got != p.Source {
		t.Errorf("%s: Pyro5Source = %q, want %q", Pyro5Env, got, p.Source)
	}
}

// Pyro5's echo server answers the echo steps; its answers are the golden
// echo_<serializer> files.
func TestPyro5EchoServerGolden(t *testing.T) {
	Pyro5(t)
	uri := StartEchoServer5(t, Echo5{})
	daemon := strings.Replace(uri, "test.echoserver@", "Pyro.Daemon@", 1)
	for _, ser := range serializers5 {
		t.Run(ser, func(t *testing.T) {
			res := RunCalls5(t, ser, EchoSteps5(uri, daemon))
			checkOrRecord(t, "echo_"+ser, res)
			rs := byName(t, res)
			want(t, rs, "echo/int_neg", `["int","-42"]`, "")
			want(t, rs, "echo/unicode", `["str","häßlich € ☃ 𝄞 中文 مرحبا"]`, "")
			// tuples stay tuples with serpent and marshal; json and msgpack make lists
			seq := map[string]string{"serpent": "tuple", "json": "list", "marshal": "tuple", "msgpack": "list"}[ser]
			want(t, rs, "echo/tuple", `["`+seq+`",[["int","1"],["int","2"],["str","x"]]]`, "")
			want(t, rs, "echo/kwargs", `["str","by keyword"]`, "")
			want(t, rs, "echo/error", "!builtins.ValueError", "this is the generated error from echoserver echo() method")
			want(t, rs, "echo/oneway_echo", `["None"]`, "")
			want(t, rs, "echo/generator", `["list",[["str","one"],["str","two"],["str","three"]]]`, "")
			want(t, rs, "echo/dunder", `["str","should be allowed (dunder)"]`, "")
			want(t, rs, "echo/unknown_method", "!builtins.AttributeError", "no exposed attribute or method 'nosuchmethod'")
			want(t, rs, "echo/inf_method", `["float","inf"]`, "")
			want(t, rs, "daemon/ping", `["None"]`, "")
			want(t, rs, "daemon/get_metadata_unknown", "!Pyro5.errors.DaemonError", "unknown object")
			want(t, rs, "daemon/next_item_unknown_stream", "!Pyro5.errors.PyroError", "item stream terminated")
			if r := rs["echo/error"]; !r.Remote || r.TracebackTail != "ValueError: this is the generated error from echoserver echo() method" {
				t.Errorf("echo/error traceback: %+v", r)
			}
			if r := rs["echo/generator_closed"]; !r.OK || r.AfterClose == nil || r.AfterClose.Message != "item stream terminated" {
				t.Errorf("generator closed early: %+v", r)
			}
			if ser != "marshal" { // Pyro5's marshal client sends attribute access with kwargs None, and fails
				want(t, rs, "echo/verbose", `["bool",false]`, "")
				want(t, rs, "echo/verbose_after_set", `["bool",false]`, "")
			}
			md := `["dict",[[["str","attrs"],["set",[["str","verbose"]]]],[["str","methods"],["set",[["str","__dunder__"],["str","echo"],["str","error"],["str","error_with_text"],["str","generator"],["str","inf"],["str","nan"],["str","oneway_echo"],["str","oneway_slow"],["str","shutdown"],["str","slow"]]]],[["str","oneway"],["set",[["str","oneway_echo"],["str","oneway_slow"]]]]]]`
			want(t, rs, "echo/metadata", md, "")
		})
	}
}

// The Pyro5 test server's typed object answers the typed steps; its
// answers are the golden typed_<serializer> files.
func TestPyro5ServerTypedGolden(t *testing.T) {
	Pyro5(t)
	for _, ser := range serializers5 {
		t.Run(ser, func(t *testing.T) {
			// a fresh server per serializer: the steps expect the initial state
			s := StartServer5(t, []string{t.TempDir(), "pyrogo-py5-" + strconv.Itoa(os.Getpid()) + "-" + ser})
			typed := strings.Replace(s.URIs["plain"], "thing@", "typed@", 1)
			daemon := strings.Replace(s.URIs["plain"], "thing@", "Pyro.Daemon@", 1)
			res := RunCalls5(t, ser, TypedSteps5(typed, daemon))
			checkOrRecord(t, "typed_"+ser, res)
			rs := byName(t, res)
			want(t, rs, "typed/ints", `["int","1099511627779"]`, "")
			want(t, rs, "typed/ints_overflow", "!builtins.TypeError", "int64")
			want(t, rs, "typed/arity_missing", "!builtins.TypeError", "missing 1 required positional argument")
			want(t, rs, "typed/greet_mixed", `["str","yo Bob?"]`, "")
			want(t, rs, "typed/greet_bogus_keyword", "!builtins.TypeError", "unexpected keyword argument 'bogus'")
			want(t, rs, "typed/key_error", "!builtins.KeyError", "nope")
			want(t, rs, "typed/after_panic", `["int","2"]`, "")
			want(t, rs, "typed/size_str", `["int","3000000"]`, "")
			want(t, rs, "typed/oneway_done", `["int","1"]`, "")
			want(t, rs, "typed/uri_result", `["uri","PYRO:thing@example.org:1234"]`, "")
			want(t, rs, "typed/stream", `["list",[["int","3"],["int","2"],["int","1"]]]`, "")
			want(t, rs, "typed/context", `["dict",[[["str","corr"],["str","12345678-1234-4234-8234-123456789abc"]],[["str","xtra"],["str","hello"]]]]`, "")
			if ra := rs["typed/context"].ResponseAnnotations; ra["XRES"] != "hello!" {
				t.Errorf("response annotations %v", ra)
			}
			if r := rs["typed/batch"]; ser != "marshal" && r.ValueJSON() != `["batch",[{"ok":true,"type":"builtins.int","value":["int","3"]},{"ok":true,"type":"builtins.str","value":["str","ab"]},{"args":["tuple",[["str","nope"]]],"class":"builtins.KeyError","message":"'nope'","ok":false,"remote":true,"traceback_tail":"KeyError: 'nope'"}]]` {
				t.Errorf("batch: %s", r.ValueJSON())
			}
			if ser != "marshal" { // Pyro5's marshal client cannot send batches or attribute access (kwargs None)
				want(t, rs, "typed/label_after_set", `["str","néw"]`, "")
				want(t, rs, "typed/batch_oneway_done", `["int","3"]`, "")
			}
			if ser != "marshal" { // marshal cannot carry a proxy
				r := rs["typed/autoproxy_nested"]
				var names []string
				for _, f := range r.Followed {
					names = append(names, f.ValueJSON())
				}
				if got := strings.Join(names, " "); got != `["str","kid"] ["str","kid2"] ["str","kid"] ["str","kid"] ["str","kid2"]` {
					t.Errorf("autoproxies in child_map: %s: %s", got, r)
				}
			}
		})
	}
}

// The Pyro5 test server's other daemons and options: unix and abstract
// sockets, handshakes, pyrogo's passphrase authentication, TLS (one-way
// and mutual) and compression.
func TestPyro5ServerTransports(t *testing.T) {
	Pyro5(t)
	b, err := devcert.New()
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(t.TempDir(), "certs")
	if err := b.Write(certs); err != nil {
		t.Fatal(err)
	}
	s := StartServer5(t, []string{t.TempDir(), "pyrogo-py5t-" + strconv.Itoa(os.Getpid()), "--passphrase", "--tls", certs},
		"PYRO_COMPRESSION=true")
	mutual := StartServer5(t, []string{t.TempDir(), "pyrogo-py5m-" + strconv.Itoa(os.Getpid()), "--tls", certs, "--mutual"})
	tlsEnv := []string{"PYRO_SSL=true", "PYRO_SSL_CACERTS=" + filepath.Join(certs, devcert.CACertFile)}
	clientCert := append(tlsEnv, "PYRO_SSL_CLIENTCERT="+filepath.Join(certs, devcert.ClientCertFile),
		"PYRO_SSL_CLIENTKEY="+filepath.Join(certs, devcert.ClientKeyFile))
	plain := s.URIs["plain"]
	for _, ser := range serializers5 {
		t.Run(ser, func(t *testing.T) {
			steps := []Step5{
				{Name: "unix", URI: s.URIs["unix"], Method: "add", Args: "(2, 3)"},
				{Name: "abstract", URI: s.URIs["abstract"], Method: "add", Args: "('a', 'b')"},
				{Name: "handshake_default", URI: plain, Method: "handshake_seen"},
				{Name: "handshake_dict", URI: plain, Method: "handshake_seen", Handshake: "{'secret': 'open sesame', 'n': 7}"},
				{Name: "handshake_refused", URI: plain, Method: "handshake_seen", Handshake: "'let me in'"},
				{Name: "passphrase_right", URI: s.URIs["passphrase"], Method: "echo", Args: "('hi',)", Passphrase: "pyro5 pass phrase"},
				{Name: "passphrase_wrong", URI: s.URIs["passphrase"], Method: "echo", Args: "('hi',)", Passphrase: "wrong"},
				{Name: "passphrase_missing", URI: s.URIs["passphrase"], Method: "echo", Args: "('hi',)"},
				{Name: "compressed_request", URI: plain, Method: "request_flags", Args: "('compress me ' * 5000,)"},
				{Name: "compressed_reply", URI: plain, Method: "size", Args: "(" + "'x' * 100" + ",)"},
				{Name: "big_reply", URI: plain, Method: "big", Args: "(1000,)"},
				{Name: "errors", URI: plain, Method: "fail"},
				{Name: "naming_error", URI: plain, Method: "naming"},
				{Name: "key_error", URI: plain, Method: "key_error", Args: "('k',)"},
				{Name: "gen_fail", URI: plain, Op: "stream", Method: "gen_fail", Args: "(2,)"},
				{Name: "describe", URI: plain, Method: "describe", Args: "(1, 'a')", Kwargs: "{'k': (1, 2)}"},
			}
			res := RunCalls5(t, ser, steps, "PYRO_COMPRESSION=true")
			rs := byName(t, res)
			want(t, rs, "unix", `["int","5"]`, "")
			if runtime.GOOS == "linux" {
				want(t, rs, "abstract", `["str","ab"]`, "")
			}
			want(t, rs, "handshake_default", `["str","hello"]`, "")
			want(t, rs, "handshake_dict", `["str","secret"]`, "")
			if h := compactJSON(rs["handshake_dict"].Handshake); h != `["dict",[[["str","n"],["int","7"]],[["str","welcome"],["bool",true]]]]` {
				t.Errorf("handshake answer %s", h)
			}
			want(t, rs, "handshake_refused", "!Pyro5.errors.CommunicationError", "rejected: go away: bad handshake 'let me in'")
			want(t, rs, "passphrase_right", `["str","hi"]`, "")
			want(t, rs, "passphrase_wrong", "!Pyro5.errors.SecurityError", "authentication failed")
			want(t, rs, "passphrase_missing", "!Pyro5.errors.CommunicationError", "passphrase authentication required")
			if r := rs["compressed_request"]; !r.OK || mustInt(t, r)&2 == 0 {
				t.Errorf("the request was not compressed: %s", r)
			}
			if r := rs["big_reply"]; !r.OK || r.Flags&2 == 0 {
				t.Errorf("the reply was not compressed: %s flags %#x", r, r.Flags)
			}
			if r := rs["compressed_reply"]; !r.OK || r.Flags&2 != 0 {
				t.Errorf("a small reply was compressed: %s flags %#x", r, r.Flags)
			}
			want(t, rs, "errors", "!builtins.ValueError", "expected failure")
			want(t, rs, "naming_error", "!Pyro5.errors.NamingError", "unknown name: nope")
			want(t, rs, "key_error", "!builtins.KeyError", "k")
			if r := rs["gen_fail"]; r.OK || r.Class != "builtins.ValueError" || compactJSON(r.Items) != `["list",[["int","0"],["int","1"]]]` {
				t.Errorf("gen_fail: %s items %s", r, compactJSON(r.Items))
			}
			if r := rs["describe"]; !r.OK || !strings.Contains(r.ValueJSON(), `[[\"int\", \"1\"], [\"str\", \"a\"]]`) {
				t.Errorf("describe: %s", r)
			}

			tlsSteps := []Step5{
				{Name: "tls", URI: s.URIs["tls"], Method: "add", Args: "(20, 22)"},
				{Name: "mutual", URI: mutual.URIs["tls"], Method: "add", Args: "(1, 2)"},
			}
			rs = byName(t, RunCalls5(t, ser, tlsSteps, tlsEnv...))
			want(t, rs, "tls", `["int","42"]`, "")
			if r := rs["mutual"]; r.OK {
				t.Errorf("mutual TLS daemon served a client without certificate: %s", r)
			}
			rs = byName(t, RunCalls5(t, ser, tlsSteps, clientCert...))
			want(t, rs, "mutual", `["int","3"]`, "")
			// plain text to a TLS daemon fails
			rs = byName(t, RunCalls5(t, ser, tlsSteps[:1]))
			if r := rs["tls"]; r.OK {
				t.Errorf("plain client served by a TLS daemon: %s", r)
			}
		})
	}
}

func mustInt(t *testing.T, r Result5) int {
	t.Helper()
	v, ok := r.Value.([]any)
	if !ok || len(v) != 2 || v[0] != "int" {
		t.Fatalf("%s: not an int", r)
	}
	s, _ := v[1].(string)
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The name server starters: Pyro5's echo server registered with Pyro5's
// name server, found by PYRONAME, by locate_ns over broadcast on
// loopback, and a sql: storage that survives a restart.
func TestPyro5NameServerAndEcho(t *testing.T) {
	Pyro5(t)
	db := filepath.Join(t.TempDir(), "ns.sqlite")
	ns := StartNameServer5(t, NS5{Storage: "sql:" + db, Broadcast: true})
	if !regexp.MustCompile(`^PYRO:Pyro\.NameServer@127\.0\.0\.1:\d+$`).MatchString(ns.URI) || ns.BcPort == 0 {
		t.Fatalf("name server %q broadcast port %d", ns.URI, ns.BcPort)
	}
	echo := StartEchoServer5(t, Echo5{NameServer: ns.URI})
	host, port := nsHostPort(t, ns.URI)
	nsEnv := []string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}
	bcEnv := []string{"PYRO_NS_HOST=192.0.2.1", "PYRO_BROADCAST_ADDRS=127.0.0.1", "PYRO_NS_BCPORT=" + strconv.Itoa(ns.BcPort), "PYRO_COMMTIMEOUT=3"}
	for _, ser := range serializers5 {
		rs := byName(t, RunCalls5(t, ser, []Step5{
			{Name: "pyroname", URI: "PYRONAME:test.echoserver", Method: "echo", Args: "('by name',)"},
			{Name: "resolve", Op: "resolve", URI: "PYRONAME:test.echoserver"},
			{Name: "lookup", URI: ns.URI, Method: "lookup", Args: "('test.echoserver',)"},
			{Name: "list", URI: ns.URI, Method: "list", Args: "('test.',)"},
			{Name: "count", URI: ns.URI, Method: "count"},
		}, nsEnv...))
		want(t, rs, "pyroname", `["str","by name"]`, "")
		want(t, rs, "resolve", `["uri","`+echo+`"]`, "")
		want(t, rs, "lookup", `["uri","`+echo+`"]`, "")
		want(t, rs, "list", `["dict",[[["str","test.echoserver"],["str","`+echo+`"]]]]`, "")
		want(t, rs, "count", `["int","2"]`, "")
		rs = byName(t, RunCalls5(t, ser, []Step5{{Name: "locate", Op: "locate_ns"}}, bcEnv...))
		want(t, rs, "locate", `["uri","`+ns.URI+`"]`, "")
	}
	// without the responder nothing answers the broadcast
	rs := byName(t, RunCalls5(t, "serpent", []Step5{{Name: "locate", Op: "locate_ns"}},
		"PYRO_NS_HOST=192.0.2.1", "PYRO_BROADCAST_ADDRS=127.0.0.1", "PYRO_NS_BCPORT="+strconv.Itoa(testkit.FreeUDPPort(t)), "PYRO_COMMTIMEOUT=1"))
	if r := rs["locate"]; r.OK {
		t.Errorf("locate_ns without a responder: %s", r)
	}
	// the sql storage keeps the registration over a restart
	ns.Stop()
	ns2 := StartNameServer5(t, NS5{Storage: "sql:" + db})
	rs = byName(t, RunCalls5(t, "serpent", []Step5{{Name: "lookup", URI: ns2.URI, Method: "lookup", Args: "('test.echoserver',)"}}))
	want(t, rs, "lookup", `["uri","`+echo+`"]`, "")
}

// Pyro5's nsc against Pyro5's name server: the transcript is the golden
// nsc.txt, which pyrogo's name server must reproduce.
func TestPyro5Nsc(t *testing.T) {
	Pyro5(t)
	ns := StartNameServer5(t, NS5{})
	host, port := nsHostPort(t, ns.URI)
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	got := NscSession5(t, host, n)
	if *update {
		if err := os.WriteFile(nscGoldenPath(), []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want := Nsc5Golden(t); got != want {
		t.Errorf("nsc transcript differs from the golden one:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range []string{
		"Name server ping ok.",
		"Pyro.NameServer --> PYRO:Pyro.NameServer@127.0.0.1:<port>",
		"    metadata: {'class:Pyro5.nameserver.NameServer'}",
		"Registered demo.a",
		"Error: NamingError - name already registered: demo.a\n(exit 1)",
		"PYRO:a@example.org:1111\nmetadata: {'blue', 'green', 'red'}",
		"--------START LIST  - searched by metadata\ndemo.a --> PYRO:a@example.org:1111\n    metadata: {'blue', 'green', 'red'}\n--------END LIST  - searched by metadata",
		"$ nsc remove demo.b\nRemoved demo.b\n$ nsc remove demo.b\nNothing removed",
		"Error: NamingError - unknown name: demo.b\n(exit 1)",
		"Are you sure (y/n)?1 items removed.",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("transcript lacks %q:\n%s", line, got)
		}
	}
}

// The starters on unix sockets: Pyro5's name server and echo server, the
// echo server registered with the name server over the socket.
func TestPyro5StartersUnixSockets(t *testing.T) {
	Pyro5(t)
	dir := t.TempDir()
	ns := StartNameServer5(t, NS5{UnixSocket: filepath.Join(dir, "ns.sock")})
	if want := "PYRO:Pyro.NameServer@./u:" + filepath.Join(dir, "ns.sock"); ns.URI != want {
		t.Fatalf("name server URI %q, want %q", ns.URI, want)
	}
	echo := StartEchoServer5(t, Echo5{UnixSocket: filepath.Join(dir, "echo.sock")})
	if want := "PYRO:test.echoserver@./u:" + filepath.Join(dir, "echo.sock"); echo != want {
		t.Fatalf("echo server URI %q, want %q", echo, want)
	}
	rs := byName(t, RunCalls5(t, "serpent", []Step5{
		{Name: "echo", URI: echo, Method: "echo", Args: "('over unix',)"},
		{Name: "register", URI: ns.URI, Method: "register", Args: "('e', " + strconv.Quote(echo) + ")"},
		{Name: "lookup", URI: ns.URI, Method: "lookup", Args: "('e',)"},
	}))
	want(t, rs, "echo", `["str","over unix"]`, "")
	want(t, rs, "register", `["None"]`, "")
	want(t, rs, "lookup", `["uri","`+echo+`"]`, "")
}
