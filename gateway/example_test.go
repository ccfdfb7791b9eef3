package gateway_test

import (
	"context"
	"log"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway"
)

// A gateway for the objects whose names start with "http.", requiring a
// key, on localhost:8080 until SIGINT or SIGTERM.
func Example() {
	cfg, err := pyro.DefaultConfig() // Pyro's defaults and PYRO_* (NS_HOST, HMAC_KEY, SSL_*, ...)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gateway.New(cfg,
		gateway.WithExpose(`http\.`),
		gateway.WithGatewayKey([]byte("a long random key")),
		gateway.WithTimeout(10*time.Second),
		gateway.WithLogger(slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := g.ListenAndServe(ctx, "localhost:8080", 5*time.Second); err != nil {
		log.Fatal(err)
	}
}
