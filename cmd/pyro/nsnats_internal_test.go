package main

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/cluster"
	"github.com/pyrogo/pyro/internal/testkit"
)

// A NATS password on the command line gets the usual warning, and never
// appears in the error when NATS cannot be reached.
func TestNSNatsPasswordWarning(t *testing.T) {
	spec := "nats://alice:s3cret@127.0.0.1:" + strconv.Itoa(testkit.FreeTCPPort(t)) + "/names?timeout=500ms"
	var stderr strings.Builder
	open := nsStorageOpener(spec, slog.New(slog.DiscardHandler), &stderr)
	if !strings.Contains(stderr.String(), "Warning: the NATS password") {
		t.Fatalf("no warning for a password in the spec: %q", stderr.String())
	}
	st, err := open(spec)
	if err == nil {
		st.Close()
		t.Fatal("opened a storage on a closed port")
	}
	if !errors.Is(err, cluster.ErrUnavailable) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q: want ErrUnavailable without the password", err)
	}
	stderr.Reset()
	nsStorageOpener("nats://127.0.0.1:1/names?creds=/x", nil, &stderr)
	nsStorageOpener("sql:/tmp/x.db", nil, &stderr)
	if stderr.Len() != 0 {
		t.Fatalf("warning without a password: %q", stderr.String())
	}
}
