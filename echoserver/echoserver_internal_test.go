package echoserver

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
)

func TestEchoServer(t *testing.T) {
	d, err := pyro.NewDaemon(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &EchoServer{SlowDelay: 10 * time.Millisecond}
	u, err := d.Register(e, ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	go d.Serve(context.Background())
	defer d.Close()
	p, err := pyro.NewProxyURI(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	methods, oneway, attrs, err := p.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"__dunder__", "echo", "error", "error_with_text", "generator", "inf", "nan", "oneway_echo", "oneway_slow", "shutdown", "slow"}
	if len(methods) != len(want) {
		t.Errorf("methods %v, want %v", methods, want)
	}
	if len(oneway) != 2 || len(attrs) != 1 || attrs[0] != "verbose" {
		t.Errorf("oneway %v attrs %v", oneway, attrs)
	}
	if v, err := p.Call(ctx, "echo", "hi"); err != nil || v != "hi" {
		t.Errorf("echo %v %v", v, err)
	}
	var re *pyro.RemoteError
	if _, err := p.Call(ctx, "error"); !errors.As(err, &re) || re.Class() != "builtins.ValueError" {
		t.Errorf("error: %v", err)
	}
	if v, _ := p.Call(ctx, "nan"); !math.IsNaN(v.(float64)) {
		t.Errorf("nan %v", v)
	}
	if v, _ := p.Call(ctx, "inf"); !math.IsInf(v.(float64), 1) {
		t.Errorf("inf %v", v)
	}
	if v, _ := p.Call(ctx, "slow"); v != "Finally, an answer!" {
		t.Errorf("slow %v", v)
	}
	p.Call(ctx, "shutdown")
	select {
	case <-e.Done():
	case <-time.After(2 * time.Second):
		t.Error("shutdown not signalled")
	}
}
