package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/testkit"
)

// --backend: only nats:// specs, not with -s; a NATS that cannot be
// reached is a failure to run (exit 1) saying so, and a password in the
// spec is warned about and never shown.
func TestESBackendFlags(t *testing.T) {
	closed := "127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t))
	for _, tc := range []struct {
		args    []string
		code    int
		message string
	}{
		{[]string{"-s", "memory", "--backend", "nats://" + closed + "/es"}, exitUsage, "-s and --backend exclude each other"},
		{[]string{"--backend", "sql:/tmp/x.db"}, exitUsage, "--backend must be nats://"},
		{[]string{"--backend", "nats://" + closed}, exitUsage, "no /BUCKET"},
		{[]string{"--backend", "nats://alice:s3cret@" + closed + "/es?timeout=300ms"}, exitRemote, "NATS unavailable"},
	} {
		r := runESCmd(t, cleanEnviron(), esOptions{}, append([]string{"-N", "-n", "127.0.0.1"}, tc.args...)...)
		code := r.wait(t)
		if code != tc.code || !strings.Contains(r.stderr.String(), tc.message) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, r.stderr, tc.code, tc.message)
		}
		if strings.Contains(r.stdout.String(), "Event Server started.") {
			t.Errorf("%v: started", tc.args)
		}
		if strings.Contains(r.stdout.String()+r.stderr.String(), "s3cret") {
			t.Errorf("%v: the password is shown: %q %q", tc.args, r.stdout, r.stderr)
		}
		if strings.Contains(tc.args[len(tc.args)-1], "alice") && !strings.Contains(r.stderr.String(), "Warning: the NATS password") {
			t.Errorf("%v: no password warning: %q", tc.args, r.stderr)
		}
	}
}
