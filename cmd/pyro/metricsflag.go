package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/pyrogo/pyro/metrics"
)

// metricsFlagHelp is the text of --metrics.
const metricsFlagHelp = "serve Prometheus metrics on http://`ADDR`/metrics (host:port; off by default; a warning when not loopback)"

// addMetricsFlag defines --metrics on fs.
func addMetricsFlag(fs *flag.FlagSet, addr *string) {
	fs.StringVar(addr, "metrics", "", metricsFlagHelp)
}

// metricsEndpoint is the --metrics endpoint of a server command: the
// registry whose hooks the server takes, listening from the start (so a
// bad address fails the command before it serves), serving once run.
type metricsEndpoint struct {
	reg    *metrics.Registry
	ln     net.Listener
	cancel context.CancelFunc
	done   chan error
}

// listenMetrics opens the --metrics address; nil, nil without one.
func listenMetrics(addr string, logger *slog.Logger) (*metricsEndpoint, error) {
	if addr == "" {
		return nil, nil
	}
	reg := metrics.New(metrics.WithLogger(logger))
	ln, err := reg.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	return &metricsEndpoint{reg: reg, ln: ln}, nil
}

// run serves the metrics until stop, and prints where.
func (m *metricsEndpoint) run(out io.Writer) {
	if m == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan error, 1)
	go func() { m.done <- m.reg.Serve(ctx, m.ln) }()
	fmt.Fprintf(out, "Metrics on http://%s%s\n", m.ln.Addr(), metrics.Path)
}

// stop ends the endpoint (it closes the listener when run was never
// called).
func (m *metricsEndpoint) stop() {
	switch {
	case m == nil:
	case m.cancel == nil:
		m.ln.Close()
	default:
		m.cancel()
		<-m.done
	}
}
