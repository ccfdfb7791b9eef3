package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
)

// plainSQLite makes a SQLite database that is not an event store.
func plainSQLite(path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE pyro_names (id integer PRIMARY KEY, name text, uri text)`)
	return err
}

// helperEnv asks the test binary to run an event server instead of the
// tests: "FILE PORT". The server prints "READY" and serves until it is
// killed or its stdin is closed (so it never outlives the test).
const helperEnv = "PYROGO_ESSTORE_SERVER"

// helperMain runs the test binary as an event server when asked to; it
// reports whether it did.
func helperMain() bool {
	arg := os.Getenv(helperEnv)
	if arg == "" {
		return false
	}
	if err := serveES(arg); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

func serveES(arg string) error {
	file, portText, _ := strings.Cut(arg, " ")
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	st, err := Open(file)
	if err != nil {
		return err
	}
	cfg := pyro.BuiltinConfig()
	cfg.CommTimeout = 5 * time.Second
	svc := events.NewService(cfg, events.WithStore(st), events.WithRetry(1000, 50*time.Millisecond, time.Second),
		events.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err := svc.Err(); err != nil {
		return err
	}
	d, err := pyro.NewDaemon(cfg, pyro.WithHost("127.0.0.1"), pyro.WithPort(port))
	if err != nil {
		return err
	}
	if _, err := d.Register(svc, events.ObjectID); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "READY")
	w.Flush()
	serveErr := d.Serve(ctx)
	d.Close()
	if errors.Is(serveErr, pyro.ErrDaemonClosed) || ctx.Err() != nil {
		serveErr = nil // stopped as asked
	}
	return errors.Join(serveErr, svc.Close())
}
