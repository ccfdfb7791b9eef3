package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// makeCerts runs "pyro certs" into a new directory and returns the
// directory and the environment assignments of its "Server:" and
// "Client:" lines.
func makeCerts(t *testing.T) (dir string, serverEnv, clientEnv []string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "certs")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"certs", dir}, &out, &errb, nil); code != 0 {
		t.Fatalf("pyro certs: exit %d: %s", code, errb.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "Server: "); ok {
			serverEnv = strings.Fields(v)
		}
		if v, ok := strings.CutPrefix(line, "Client: "); ok {
			clientEnv = strings.Fields(v)
		}
	}
	if len(serverEnv) == 0 || len(clientEnv) == 0 {
		t.Fatalf("pyro certs output without Server:/Client: lines:\n%s", out.String())
	}
	return dir, serverEnv, clientEnv
}

// TestTLSCertsEchoserverCall: the output of "pyro certs" configures
// "pyro echoserver" and "pyro call" for mutual TLS, through the
// environment and through flags.
func TestTLSCertsEchoserverCall(t *testing.T) {
	dir, serverEnv, clientEnv := makeCerts(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	e := startEcho(t, cleanEnviron(serverEnv...), "--ssl-requireclientcert")

	call := func(environ []string, args ...string) (int, string, string) {
		t.Helper()
		return callCmd(t, cleanEnviron(environ...), append(args, e.uri, "echo", "'over tls'")...)
	}
	if code, out, errs := call(clientEnv); code != 0 || out != "'over tls'\n" {
		t.Errorf("call with the environment of pyro certs: %d %q %q", code, out, errs)
	}
	flags := []string{"--ssl", "--ssl-cacerts", file("ca.crt"), "--ssl-clientcert", file("client.crt"), "--ssl-clientkey", file("client.key")}
	if code, out, errs := call(nil, flags...); code != 0 || out != "'over tls'\n" {
		t.Errorf("call with TLS flags: %d %q %q", code, out, errs)
	}
	// --ssl is implied by the other flags
	if code, out, errs := call(nil, flags[1:]...); code != 0 || out != "'over tls'\n" {
		t.Errorf("call with TLS flags but --ssl: %d %q %q", code, out, errs)
	}
	refused := []struct {
		name    string
		environ []string
		args    []string
		want    string
	}{
		{"no client certificate", nil, []string{"--ssl-cacerts", file("ca.crt")}, "tls"},
		{"plaintext", nil, nil, "rejected: this server requires TLS"},
		{"--ssl=false wins over PYRO_SSL", clientEnv, []string{"--ssl=false"}, "rejected: this server requires TLS"},
		{"unknown CA", nil, []string{"--ssl-cacerts", file("client.crt"), "--ssl-clientcert", file("client.crt"),
			"--ssl-clientkey", file("client.key")}, "certificate"},
		{"missing CA file", nil, []string{"--ssl-cacerts", file("absent.crt")}, "SSL_CACERTS"},
	}
	for _, r := range refused {
		code, out, errs := call(r.environ, r.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, r.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q (want %q)", r.name, code, out, errs, r.want)
		}
	}

	// one-way TLS configured by flags alone
	e1 := startEcho(t, cleanEnviron(), "--ssl-servercert", file("server.crt"), "--ssl-serverkey", file("server.key"))
	if code, out, errs := callCmd(t, cleanEnviron(), "--ssl-cacerts", file("ca.crt"), e1.uri, "echo", "42"); code != 0 || out != "42\n" {
		t.Errorf("one-way TLS by flags: %d %q %q", code, out, errs)
	}
	if code, _, _ := callCmd(t, cleanEnviron(), e1.uri, "echo", "42"); code != exitUsage {
		t.Errorf("plaintext call to a TLS echoserver: exit %d", code)
	}

	// a TLS server without certificate cannot start
	bad := runEcho(t, cleanEnviron(), "--ssl")
	if code := bad.wait(t); code != exitRemote || !strings.Contains(bad.stderr.String(), "SSL_SERVERCERT") {
		t.Errorf("--ssl without certificate: exit %d, stderr %q", code, bad.stderr)
	}
}

// TestTLSNameServerCommands: "pyro ns" with mutual TLS, used by
// "pyro nsc", "pyro echoserver -n" and "pyro call PYRONAME:".
func TestTLSNameServerCommands(t *testing.T) {
	dir, _, clientEnv := makeCerts(t)
	file := func(name string) string { return filepath.Join(dir, name) }
	serverFlags := []string{"--ssl-servercert", file("server.crt"), "--ssl-serverkey", file("server.key"),
		"--ssl-cacerts", file("ca.crt"), "--ssl-requireclientcert"}
	clientFlags := []string{"--ssl-cacerts", file("ca.crt"), "--ssl-clientcert", file("client.crt"), "--ssl-clientkey", file("client.key")}
	ns := startNSCmd(t, cleanEnviron(), append([]string{"-n", "127.0.0.1", "-p", "0"}, serverFlags...)...)
	port := strconv.Itoa(ns.uri.Port)

	if r := nscRun(t, cleanEnviron(), "", append(append([]string{"-n", "127.0.0.1", "-p", port}, clientFlags...), "ping")...); r.Exit != 0 || !strings.Contains(r.Stdout, "Name server ping ok.") {
		t.Errorf("nsc ping over mutual TLS: %+v", r)
	}
	if r := nscRun(t, cleanEnviron(), "", "-n", "127.0.0.1", "-p", port, "--ssl-cacerts", file("ca.crt"), "ping"); !strings.Contains(r.Stdout, "Error") {
		t.Errorf("nsc ping without client certificate: %+v", r)
	}
	if r := nscRun(t, cleanEnviron(), "", "-n", "127.0.0.1", "-p", port, "ping"); !strings.Contains(r.Stdout, "Error") {
		t.Errorf("plaintext nsc ping: %+v", r)
	}

	// the echo server registers over TLS as a client of the name server
	env := cleanEnviron("PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT="+port)
	e := startEcho(t, env, append(append([]string{"-H", "127.0.0.1", "-n"}, serverFlags...),
		"--ssl-clientcert", file("client.crt"), "--ssl-clientkey", file("client.key"))...)
	code, out, errs := callCmd(t, cleanEnviron(clientEnv...), "PYRONAME:test.echoserver@127.0.0.1:"+port, "echo", "'by name'")
	if code != 0 || out != "'by name'\n" {
		t.Errorf("pyro call PYRONAME over TLS: %d %q %q", code, out, errs)
	}
	e.cancel()
	if code := e.wait(t); code != 0 {
		t.Errorf("echoserver exit %d: %s", code, e.stderr)
	}
}
