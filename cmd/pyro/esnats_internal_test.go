package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pyrogo/pyro/internal/natstest"
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
		// -s nats:// is the same store, opened the same way
		{[]string{"-s", "nats://alice:s3cret@" + closed + "/es?timeout=300ms"}, exitRemote, "NATS unavailable"},
		{[]string{"-s", "nats://" + closed}, exitUsage, "no /BUCKET"},
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

// TestESNatsStoreLogs: the nats:// store logs through the command's
// logger whether it is given as --backend or as -s (before, -s opened it
// through events.OpenStore, with a logger that dropped everything): a
// subscriber record the store ignores is a warning on stderr.
func TestESNatsStoreLogs(t *testing.T) {
	c := natstest.Start(t, 1)
	for _, flag := range []string{"--backend", "-s"} {
		t.Run(flag, func(t *testing.T) {
			name := "logs" + strings.TrimLeft(flag, "-")
			r := startESCmd(t, cleanEnviron(), esOptions{}, "-N", "-n", "127.0.0.1", flag, c.Spec(name))
			nc, err := nats.Connect(c.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound())
			defer cancel()
			kv, err := js.KeyValue(ctx, "PYROES_"+name+"_subs")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := kv.Put(ctx, "s.not-a-record", []byte("{")); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "the store's warning on stderr", func() bool {
				return strings.Contains(r.stderr.String(), "nats event store: ignoring a subscriber record")
			})
		})
	}
}
