package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// startPolicyES runs a Service under policy text in a loopback daemon
// with the policy's daemon options (and extra daemon options).
func startPolicyES(t *testing.T, policy string, dopts ...pyro.DaemonOption) (*events.Service, pyro.URI) {
	t.Helper()
	p, err := events.ParsePolicyString(policy)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]pyro.DaemonOption{pyro.WithHost("127.0.0.1"), pyro.WithPort(0)}, p.DaemonOptions(nil)...)
	svc, u := serveES(t, []events.Option{events.WithPolicy(p)}, append(all, dopts...)...)
	if svc.Policy() != p {
		t.Fatal("Policy() does not return the policy given")
	}
	return svc, u
}

func esProxy(t *testing.T, u pyro.URI, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	return pyrotest.ProxyURI(t, u, nil, opts...)
}

// wantSecurity fails unless err is a SecurityError whose text has want.
func wantSecurity(t *testing.T, what string, err error, want string) {
	t.Helper()
	if !errors.Is(err, pyro.ErrSecurity) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: %v, want a SecurityError with %q", what, err, want)
	}
}

// noEvent fails if s delivers anything within a short while.
func noEvent(t *testing.T, s *events.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for ev, err := range s.Events(ctx) {
		if err == nil {
			t.Fatalf("unexpected event %+v", ev)
		}
		return
	}
}

func TestPolicyPublishAndSubscribe(t *testing.T) {
	_, u := startPolicyES(t, `
allow connect
allow publish subject=lab.*
allow subscribe prefix=lab.
allow match
`)
	ctx := ctxT(t)
	es := esProxy(t, u)
	lab := sub(t, ctx, u, false, "lab.temp")
	all := sub(t, ctx, u, true, ".*")

	_, err := es.Call(ctx, "publish", "secret.key", "x")
	wantSecurity(t, "publish to a denied subject", err, `denies publish of "secret.key"`)
	// one denied subject refuses the whole publish: nothing is delivered
	_, err = es.Call(ctx, "publish", []any{"lab.temp", "secret.key"}, "x")
	wantSecurity(t, "publish with one denied subject", err, `denies publish of "secret.key"`)
	noEvent(t, lab)

	if _, err := es.Call(ctx, "publish", "LAB.Temp", 21.5); err != nil {
		t.Fatalf("allowed publish: %v", err)
	}
	if ev := next(t, ctx, lab, 1)[0]; ev.Subject != "LAB.Temp" || ev.Msg != 21.5 {
		t.Fatalf("lab got %+v", ev)
	}
	if ev := next(t, ctx, all, 1)[0]; ev.Subject != "LAB.Temp" {
		t.Fatalf("pattern subscriber got %+v", ev)
	}

	_, err = events.Subscribe(ctx, u, []string{"secret.key"})
	wantSecurity(t, "subscribe to a denied subject", err, `denies subscribe of "secret.key"`)
}

// TestPolicyPatternDeliversOnlyAllowedSubjects: a pattern subscription
// gets only the events whose subjects its client may subscribe to, even
// when someone else may publish them.
func TestPolicyPatternDeliversOnlyAllowedSubjects(t *testing.T) {
	svc, u := startPolicyES(t, `
allow connect,match
allow subscribe subject=lab.*
allow publish
`)
	ctx := ctxT(t)
	all := sub(t, ctx, u, true, ".*")
	es := esProxy(t, u)
	for _, subj := range []string{"secret.a", "lab.a", "secret.b", "lab.b"} {
		if _, err := es.Call(ctx, "publish", subj, subj); err != nil {
			t.Fatal(err)
		}
	}
	// a local Go publish is not restricted, but its delivery is
	if err := svc.Publish(ctx, "secret.c", "c"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Publish(ctx, "lab.c", "c"); err != nil {
		t.Fatal(err)
	}
	got := next(t, ctx, all, 3)
	for i, want := range []string{"lab.a", "lab.b", "lab.c"} {
		if got[i].Subject != want {
			t.Fatalf("event %d: %q, want %q (all: %+v)", i, got[i].Subject, want, got)
		}
	}
	noEvent(t, all)
}

func TestPolicyMatchDenied(t *testing.T) {
	_, u := startPolicyES(t, "allow connect,publish,subscribe\n")
	_, err := events.SubscribeMatch(ctxT(t), u, []string{"lab.*"})
	wantSecurity(t, "subscribeMatch without match", err, "denies subscribeMatch")
}

func TestPolicyConnectByHost(t *testing.T) {
	_, u := startPolicyES(t, "deny connect host=127.0.0.0/8\nallow all\n")
	_, err := esProxy(t, u).Call(ctxT(t), "publish", "x", 1)
	if !errors.Is(err, pyro.ErrConnectionDenied) || !strings.Contains(err.Error(), "event server policy") {
		t.Fatalf("connect from a denied host: %v, want ConnectionDenied naming the policy", err)
	}
}

// TestPolicyConnectByIdentity: passphrase identities are known only
// after the handshake, so the interceptor refuses the calls.
func TestPolicyConnectByIdentity(t *testing.T) {
	_, u := startPolicyES(t, "allow all identity=alice\n",
		pyro.WithAllowedIdentities(map[string]string{"alice": "alice-secret-1", "bob": "bob-secret-22"}))
	ctx := ctxT(t)
	if _, err := esProxy(t, u, pyro.WithIdentification("alice-secret-1")).Call(ctx, "publish", "x", 1); err != nil {
		t.Fatalf("alice: %v", err)
	}
	_, err := esProxy(t, u, pyro.WithIdentification("bob-secret-22")).Call(ctx, "publish", "x", 1)
	wantSecurity(t, "bob", err, "event server policy does not allow this client")
}

// TestThirdPartySubscriber: without a policy, a remote client may not
// subscribe (or unsubscribe) a subscriber object on another host; a
// policy's thirdparty rule may allow it, per subject. The refused
// subscriber addresses are TEST-NET ones, never dialled: nothing is
// published to them.
func TestThirdPartySubscriber(t *testing.T) {
	ctx := ctxT(t)
	victim := "PYRO:obj_victim@192.0.2.1:9999"
	t.Run("no policy", func(t *testing.T) {
		svc, u := startES(t)
		es := esProxy(t, u)
		for _, call := range []struct {
			method string
			args   []any
		}{
			{"subscribe", []any{"lab.x", victim}},
			{"subscribeMatch", []any{"lab.*", victim}},
			{"unsubscribe", []any{"lab.x", victim}},
			{"subscribe", []any{"lab.x", "PYRONAME:some.object"}},
		} {
			_, err := es.Call(ctx, call.method, call.args...)
			wantSecurity(t, call.method, err, "not on the subscribing client's host")
		}
		if n := svc.Stats().Subscribers; n != 0 {
			t.Fatalf("%d subscribers after refusals", n)
		}
		// a subscriber on the client's own host (loopback here) is fine
		if _, err := es.Call(ctx, "subscribe", "lab.x", "PYRO:obj_own@127.0.0.1:9"); err != nil {
			t.Fatalf("own host: %v", err)
		}
		// and local Go calls are not restricted
		if err := svc.Subscribe(ctx, "lab.x", victim); err != nil {
			t.Fatalf("local Go call: %v", err)
		}
		if err := svc.Unsubscribe(ctx, "lab.x", victim); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("policy allows thirdparty for lab.*", func(t *testing.T) {
		svc, u := startPolicyES(t, "allow connect,publish,subscribe,match\nallow thirdparty subject=lab.*\n")
		es := esProxy(t, u)
		if _, err := es.Call(ctx, "subscribe", "lab.x", victim); err != nil {
			t.Fatalf("allowed thirdparty: %v", err)
		}
		_, err := es.Call(ctx, "subscribe", "other.x", victim)
		wantSecurity(t, "thirdparty outside lab.*", err, "thirdparty")
		// a pattern is not a subject: only a thirdparty rule without
		// subjects allows a pattern subscription elsewhere
		_, err = es.Call(ctx, "subscribeMatch", "lab.*", victim)
		wantSecurity(t, "thirdparty pattern", err, "thirdparty")
		if _, err := es.Call(ctx, "unsubscribe", "lab.x", victim); err != nil {
			t.Fatalf("unsubscribe: %v", err)
		}
		if n := svc.Stats().Subscribers; n != 0 {
			t.Fatalf("%d subscribers left", n)
		}
	})
}
