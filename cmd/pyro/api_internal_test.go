package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestBadFlagShortUsage: a bad flag prints the error and the usage line,
// not the whole help, for every command.
func TestBadFlagShortUsage(t *testing.T) {
	for _, c := range commands {
		code, out, errs := runMain(c.name, "--no-such-flag")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != exitUsage || out != "" || len(lines) != 3 ||
			lines[0] != "pyro "+c.name+": flag provided but not defined: -no-such-flag" ||
			!strings.HasPrefix(lines[1], "usage: pyro "+c.name) ||
			lines[2] != "Run 'pyro "+c.name+" -h' for help." {
			t.Errorf("%s --no-such-flag: code %d, stdout %q, stderr:\n%s", c.name, code, out, errs)
		}
	}
	// a usage error found after parsing says the same
	code, _, errs := runMain("call", "PYRO:x@localhost:1")
	if code != exitUsage || !strings.Contains(errs, "pyro call: need URI and METHOD\nusage: pyro call ") || strings.Contains(errs, "Flags:") {
		t.Errorf("call without METHOD: code %d, stderr:\n%s", code, errs)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errs := runMain(args...)
		if code != exitOK || errs != "" || !strings.HasPrefix(out, "pyro (pyrogo) ") || !strings.Contains(out, "Pyro4 wire protocol 48") {
			t.Errorf("%v: code %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// TestEchoserverLongOptions: pyro4-test-echoserver's long options work.
func TestEchoserverLongOptions(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "echo.sock")
	r := runEcho(t, nil, "--unixsocket", sock, "--quiet")
	p := pyrotest.Proxy(t, "PYRO:test.echoserver@./u:"+sock, nil)
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := p.Call(context.Background(), "echo", 1)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no echo server on %s: %v; stderr:\n%s", sock, err, r.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.stdout.String() != "" {
		t.Errorf("--quiet printed %q", r.stdout)
	}
	r.cancel()
	if code := r.wait(t); code != exitOK {
		t.Errorf("exit %d", code)
	}
	r = startEcho(t, nil, "--host", "127.0.0.1", "--port", "0", "--verbose", "--key", "k")
	if !strings.HasPrefix(r.uri, "PYRO:test.echoserver@127.0.0.1:") || !strings.Contains(r.stdout.String(), "not using a name server") {
		t.Errorf("uri %s, stdout:\n%s", r.uri, r.stdout)
	}
	p = pyrotest.Proxy(t, r.uri, nil, pyro.WithHMACKey([]byte("k")))
	if v, err := p.Call(context.Background(), "echo", "hi"); err != nil || v != "hi" {
		t.Errorf("echo: %v, %v", v, err)
	}
	// --naming and --nameserver are the -n and -N flags
	for _, n := range []string{"naming", "nameserver"} {
		code, _, errs := runMain("echoserver", "--"+n+"=maybe")
		if code != exitUsage || !strings.Contains(errs, "invalid boolean value") {
			t.Errorf("--%s is not a boolean flag: code %d, stderr %q", n, code, errs)
		}
	}
}

// silentServer accepts connections and never answers; it returns its
// address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	go func() {
		defer close(conns)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestCallTimeoutOnSilentServer: "pyro call" gives up on a server that
// accepts and never answers, by default and with --timeout.
func TestCallTimeoutOnSilentServer(t *testing.T) {
	uri := "PYRO:obj@" + silentServer(t)
	code, out, errs := callCmd(t, nil, "--timeout", "0.3", uri, "echo", "1")
	if code != exitUsage || out != "" || !strings.HasPrefix(errs, "pyro call: cannot connect to ") || !strings.Contains(errs, "timeout") {
		t.Errorf("--timeout 0.3: code %d stdout %q stderr %q", code, out, errs)
	}
	old := defaultCallTimeout
	defaultCallTimeout = 300 * time.Millisecond // the default, shortened for the test
	defer func() { defaultCallTimeout = old }()
	done := make(chan struct{})
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer close(done)
		code = runCall(ctx, []string{uri, "echo", "1"}, io.Discard, &stderr, nil)
	}()
	select {
	case <-done:
	case <-time.After(waitLimit): // far beyond the shortened default
		cancel()
		<-done
		t.Fatal("pyro call without --timeout did not give up on a silent server")
	}
	if code != exitUsage || !strings.Contains(stderr.String(), "timeout") {
		t.Errorf("default timeout: code %d stderr %q", code, stderr.String())
	}
	if code, _, errs := callCmd(t, nil, "--timeout", "-1", uri, "echo"); code != exitUsage || !strings.Contains(errs, "invalid --timeout") {
		t.Errorf("--timeout -1: code %d stderr %q", code, errs)
	}
}

// TestNSCStrict: pyro4-nsc's exit status 0 after a failure is kept by
// default; --strict makes failures exit 1.
func TestNSCStrict(t *testing.T) {
	port := itoa(testkit.FreeTCPPort(t))
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-n", "127.0.0.1", "-p", port, "ping"}, exitOK},
		{[]string{"--strict", "-n", "127.0.0.1", "-p", port, "ping"}, exitRemote},
		{[]string{"-n", "127.0.0.1", "-p", port, "--strict", "lookup", "x"}, exitRemote},
	} {
		r := nscRun(t, nil, "", tc.args...)
		if r.Exit != tc.want || !strings.HasPrefix(r.Stdout, "Error: Failed to locate the nameserver") {
			t.Errorf("%v: exit %d stdout %q stderr %q; want exit %d", tc.args, r.Exit, r.Stdout, r.Stderr, tc.want)
		}
	}
	// a failing command of a running name server
	ns := startNSCmd(t, nil, "-n", "127.0.0.1", "-p", "0")
	host, nsPort := ns.uri.Host, itoa(ns.uri.Port)
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-n", host, "-p", nsPort, "lookup", "nosuch"}, exitOK},
		{[]string{"--strict", "-n", host, "-p", nsPort, "lookup", "nosuch"}, exitRemote},
		{[]string{"--strict", "-n", host, "-p", nsPort, "ping"}, exitOK},
	} {
		r := nscRun(t, nil, "", tc.args...)
		if r.Exit != tc.want {
			t.Errorf("%v: exit %d stdout %q; want exit %d", tc.args, r.Exit, r.Stdout, tc.want)
		}
	}
}

// TestCommandLogging: PYRO_LOGLEVEL and PYRO_LOGFILE (and PYRO_LOGWIRE)
// configure every command's log; --loglevel and --logformat json override
// them; a bad level is a usage error.
func TestCommandLogging(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "echo.log")
	env := []string{"PYRO_LOGLEVEL=DEBUG", "PYRO_LOGFILE=" + logFile, "PYRO_LOGWIRE=true"}
	r := startEcho(t, env)
	code, out, errs := callCmd(t, env, "--logformat", "json", r.uri, "echo", "'hello log'")
	if code != exitOK || out != "'hello log'\n" || errs != "" {
		t.Fatalf("call: code %d stdout %q stderr %q", code, out, errs)
	}
	r.cancel()
	r.wait(t)
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	// the server's lines (text) and the client's (json) in one file
	for _, want := range []string{`level=INFO msg="pyro: client connected"`, `level=DEBUG msg="pyro: call"`, "method=echo",
		`msg="pyro: daemon wiredata received"`, `"msg":"pyro: proxy wiredata sending"`, `"level":"DEBUG"`, "hello log"} {
		if !strings.Contains(log, want) {
			t.Errorf("log file has no %q:\n%s", want, log)
		}
	}
	if fi, err := os.Stat(logFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, %v; want 0600", fi.Mode(), err)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if strings.HasPrefix(line, "{") && !json.Valid([]byte(line)) {
			t.Errorf("invalid JSON log line %q", line)
		}
	}
	// --loglevel wins over PYRO_LOGLEVEL, "{stderr}" is stderr
	r = startEcho(t, []string{"PYRO_LOGLEVEL=DEBUG", "PYRO_LOGFILE={stderr}"}, "--loglevel", "warning")
	if _, err := pyrotest.Proxy(t, r.uri, nil).Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	r.cancel()
	r.wait(t)
	if s := r.stderr.String(); strings.Contains(s, "client connected") {
		t.Errorf("--loglevel warning logged info lines:\n%s", s)
	}
	r = startEcho(t, []string{"PYRO_LOGLEVEL=INFO", "PYRO_LOGFILE={stderr}"})
	if _, err := pyrotest.Proxy(t, r.uri, nil).Call(context.Background(), "echo", 1); err != nil {
		t.Fatal(err)
	}
	r.stderr.WaitLine("client connected", r.finished)
	r.cancel()
	r.wait(t)
	if s := r.stderr.String(); !strings.Contains(s, `level=INFO msg="pyro: client connected"`) {
		t.Errorf("PYRO_LOGLEVEL=INFO to {stderr}: stderr:\n%s", s)
	}
	// bad values
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"PYRO_LOGLEVEL=LOUD"}, nil, `PYRO_LOGLEVEL: invalid log level "LOUD"`},
		{nil, []string{"--loglevel", "x"}, `--loglevel: invalid log level "x"`},
		{nil, []string{"--logformat", "xml"}, `--logformat: invalid format "xml"`},
	} {
		code, _, errs := callCmd(t, tc.env, append(tc.args, "PYRO:x@localhost:1", "m")...)
		if code != exitUsage || !strings.Contains(errs, "pyro call: "+tc.want) {
			t.Errorf("%v %v: code %d stderr %q", tc.env, tc.args, code, errs)
		}
	}
}

// TestLogDestination: Pyro4's rule for the log file.
func TestLogDestination(t *testing.T) {
	for _, tc := range []struct{ level, file, want string }{
		{"", "", ""},
		{"DEBUG", "", "pyro.log"},
		{"DEBUG", "{stderr}", ""},
		{"", "x.log", "x.log"},
		{"INFO", "/tmp/y.log", "/tmp/y.log"},
	} {
		cfg := pyro.BuiltinConfig()
		cfg.LogLevel, cfg.LogFile = tc.level, tc.file
		if got := logDestination(cfg); got != tc.want {
			t.Errorf("LOGLEVEL=%q LOGFILE=%q: %q, want %q", tc.level, tc.file, got, tc.want)
		}
	}
}

// TestLogFileRefusesSymlink: the log file is never opened through a
// symlink (another user could point it at a file of ours); the log then
// goes to stderr with a warning.
func TestLogFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "pyro.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	cfg := pyro.BuiltinConfig()
	cfg.LogFile = link
	var stderr bytes.Buffer
	lf := &logFlags{level: "info", format: "text"}
	l, closeLog, err := lf.logger(cfg, nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("a line")
	closeLog()
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("wrote through the symlink: %q", b)
	}
	if s := stderr.String(); !strings.Contains(s, "cannot write the log file") || !strings.Contains(s, "a line") {
		t.Errorf("stderr %q", s)
	}
}

// TestConfigShowsLogging: pyro config lists LOGLEVEL and LOGFILE with
// their source, and no SOCK_NODELAY.
func TestConfigShowsLogging(t *testing.T) {
	code, out, _ := configCmd("PYRO_LOGLEVEL=DEBUG", "PYRO_LOGFILE=/tmp/p.log")
	if code != exitOK {
		t.Fatalf("code %d", code)
	}
	lines := configLines(t, out)
	if lines["LOGLEVEL"] != "DEBUG  (environment)" || lines["LOGFILE"] != "/tmp/p.log  (environment)" {
		t.Errorf("LOGLEVEL %q LOGFILE %q", lines["LOGLEVEL"], lines["LOGFILE"])
	}
	if _, ok := lines["SOCK_NODELAY"]; ok {
		t.Error("SOCK_NODELAY is listed")
	}
}
