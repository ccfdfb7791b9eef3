package pyro_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/devcert"
	"github.com/pyrogo/pyro/echoserver"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// TestTLSDaemonTellsPlaintextClients: a client that connects to a TLS
// daemon without TLS is told that TLS is required, Go and Python alike,
// instead of seeing a closed connection; the daemon keeps serving.
func TestTLSDaemonTellsPlaintextClients(t *testing.T) {
	b, err := devcert.New("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := b.ServerTLS(false)
	if err != nil {
		t.Fatal(err)
	}
	u := pyrotest.Serve(t, pyrotest.Config(), echoserver.ObjectID, &echoserver.EchoServer{}, pyro.WithTLSConfig(conf)).String()
	p, err := pyro.NewProxy(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Call(context.Background(), "echo", 1)
	if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "rejected: this server requires TLS") {
		t.Fatalf("plaintext Go client: %v", err)
	}
	cconf, err := b.ClientTLS(false)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := pyro.NewProxy(u, nil, pyro.WithTLSConfig(cconf))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	if v, err := tp.Call(context.Background(), "echo", "still serving"); err != nil || v != "still serving" {
		t.Fatalf("TLS client after the refusal: %v, %v", v, err)
	}
	pytest.Python(t)
	res := runPyCalls(t, []pyCall{{URI: u, Method: "echo", Args: "(1,)", Serializer: "serpent"}})
	if r := res[0]; r.OK || r.Class != "Pyro4.errors.CommunicationError" || !strings.Contains(r.Message, "rejected: this server requires TLS") {
		t.Fatalf("plaintext Python client: %v", r)
	}
}
