package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
)

func configCmd(environ ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runConfig(context.Background(), nil, &out, &errb, environ)
	return code, out.String(), errb.String()
}

// configLines maps item name to the rest of its line.
func configLines(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := map[string]string{}
	var names []string
	_, items, ok := strings.Cut(out, "Currently active configuration settings:\n")
	if !ok {
		t.Fatalf("no settings header in\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(items, "\n"), "\n") {
		name, rest, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		lines[name] = rest
		names = append(names, name)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("not sorted: %s before %s", names[i-1], names[i])
		}
	}
	return lines
}

func TestConfigBuiltin(t *testing.T) {
	code, out, errs := configCmd()
	if code != exitOK || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	for _, want := range []string{"Protocol version: 48\n", "HOST = localhost  (builtin)\n", "NS_PORT = 9090  (builtin)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	lines := configLines(t, out)
	entries := pyro.BuiltinConfig().Entries()
	if len(lines) != len(entries) {
		t.Errorf("%d items printed, config has %d", len(lines), len(entries))
	}
	for _, e := range entries {
		rest, ok := lines[e.Name]
		if !ok {
			t.Errorf("item %s missing", e.Name)
			continue
		}
		if !strings.HasSuffix(rest, "  (builtin)") {
			t.Errorf("%s = %s: want source builtin", e.Name, rest)
		}
	}
}

func TestConfigEnvironment(t *testing.T) {
	code, out, errs := configCmd("PYRO_HOST=0.0.0.0", "PYRO_HMAC_KEY=topsecret", "PYRO_SSL_SERVERKEYPASSWD=hunter2", "PATH=/bin")
	if code != exitOK {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	lines := configLines(t, out)
	if got := lines["HOST"]; got != "0.0.0.0  (environment)" {
		t.Errorf("HOST = %s", got)
	}
	if got := lines["NS_HOST"]; got != "localhost  (builtin)" {
		t.Errorf("NS_HOST = %s (PYRO_HOST must not change it)", got)
	}
	if got := lines["HMAC_KEY"]; !strings.HasSuffix(got, "(environment)") {
		t.Errorf("HMAC_KEY = %s", got)
	}
	for _, secret := range []string{"topsecret", "hunter2"} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("secret %q printed:\n%s", secret, out)
		}
	}
}

func TestConfigInvalidEnvironment(t *testing.T) {
	code, out, errs := configCmd("PYRO_COMPRESSION=maybe")
	if code != exitUsage || out != "" || !strings.Contains(errs, "PYRO_COMPRESSION") {
		t.Errorf("code %d stdout %q stderr %q", code, out, errs)
	}
	if code, _, _ := runMain("config", "extra"); code != exitUsage {
		t.Errorf("config extra: code %d", code)
	}
}
