// Command eschild is the event server the attack tests run as a child
// process, so that its resident memory can be read from /proc apart from
// the test's own: the Go Service with default settings (the config from
// the environment, PYRO_* items included) in a daemon on 127.0.0.1 and a
// free port. It prints "URI = PYRO:Pyro.EventService@..." and serves
// until it gets SIGINT or SIGTERM (or is killed).
//
// It stands in for `pyro es` until the attack tests move to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eschild:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := pyro.DefaultConfig()
	if err != nil {
		return err
	}
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(0))
	if err != nil {
		return err
	}
	svc := events.NewService(cfg)
	u, err := d.Register(svc, events.ObjectID)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println("URI =", u)
	err = d.Serve(ctx)
	d.Close()
	if errors.Is(err, pyro.ErrDaemonClosed) || errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, svc.Close())
}
