package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/internal/pygen"
	"github.com/pyrogo/pyro/py"
	"pgregory.net/rapid"
)

// TestMessageRoundTrip: every value of the py model (marshal's whole
// model, exceptions included) comes back from the store the same
// (py.Same: same types, NaN, -0.0, big ints, tuples vs lists, sets vs
// frozensets), also after a reopen.
func TestMessageRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "es.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if err := s.AddSub(events.Sub{Subscriber: subA, Kind: events.Exact, Subject: "x"}); err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		msg := pygen.Value(pygen.Options{Exceptions: true}).Draw(rt, "msg")
		subject := pygen.String(pygen.Options{}).Draw(rt, "subject")
		tm := rapid.Float64().Draw(rt, "time")
		recs := []events.Record{{Event: events.Event{Subject: subject, Msg: msg, Time: tm}, Subscribers: []string{subA}}}
		if err := s.Append(recs); err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "reopen") {
			s.Close()
			if s, err = Open(path); err != nil {
				rt.Fatal(err)
			}
		}
		p, err := s.Pending(subA)
		if err != nil || len(p) != 1 {
			rt.Fatalf("Pending = %v, %v", p, err)
		}
		got := p[0]
		if got.Seq != recs[0].Seq || got.Event.Subject != subject || got.Event.Time != tm || !py.Same(got.Event.Msg, msg) {
			rt.Fatalf("stored %#v (seq %d), got back %#v (seq %d)", recs[0].Event, recs[0].Seq, got.Event, got.Seq)
		}
		if err := s.Ack(subA, got.Seq); err != nil {
			rt.Fatal(err)
		}
	})
}

// TestOperationsAgainstModel runs random sequences of subscriptions,
// appends, acks and removals, with reopens between them, against a
// model: the subscriptions and each stream's pending events and order,
// and sequence numbers that only increase.
func TestOperationsAgainstModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		path := filepath.Join(t.TempDir(), "es.db")
		s, err := Open(path)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { s.Close() }()
		uris := []string{subA, subB, "PYRO:c@127.0.0.1:9003"}
		subjects := []string{"a", "b"}
		type key struct {
			uri, subj string
		}
		subs := map[key]bool{}
		streams := map[string][]uint64{}
		var last uint64
		known := map[string]bool{} // from the first AddSub until RemoveSubscriber
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			uri := rapid.SampledFrom(uris).Draw(rt, "uri")
			subj := rapid.SampledFrom(subjects).Draw(rt, "subject")
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0:
				if err := s.AddSub(events.Sub{Subscriber: uri, Kind: events.Exact, Subject: subj}); err != nil {
					rt.Fatal(err)
				}
				subs[key{uri, subj}] = true
				known[uri] = true
			case 1:
				if err := s.RemoveSub(events.Sub{Subscriber: uri, Kind: events.Exact, Subject: subj}); err != nil {
					rt.Fatal(err)
				}
				delete(subs, key{uri, subj})
			case 2:
				if err := s.RemoveSubscriber(uri); err != nil {
					rt.Fatal(err)
				}
				for k := range subs {
					if k.uri == uri {
						delete(subs, k)
					}
				}
				delete(streams, uri)
				delete(known, uri)
			case 3:
				targets := rapid.SliceOfDistinct(rapid.SampledFrom(uris), func(u string) string { return u }).Draw(rt, "targets")
				recs := []events.Record{{Event: events.Event{Subject: subj, Msg: int64(last)}, Subscribers: targets}}
				if err := s.Append(recs); err != nil {
					rt.Fatal(err)
				}
				stored := false
				for _, u := range targets {
					if known[u] {
						streams[u] = append(streams[u], recs[0].Seq)
						stored = true
					}
				}
				if stored && recs[0].Seq <= last {
					rt.Fatalf("seq %d after %d", recs[0].Seq, last)
				}
				last = max(last, recs[0].Seq)
			case 4:
				if p := streams[uri]; len(p) > 0 {
					upto := p[rapid.IntRange(0, len(p)-1).Draw(rt, "ack")]
					if err := s.Ack(uri, upto); err != nil {
						rt.Fatal(err)
					}
					for len(streams[uri]) > 0 && streams[uri][0] <= upto {
						streams[uri] = streams[uri][1:]
					}
				}
			case 5:
				s.Close()
				if s, err = Open(path); err != nil {
					rt.Fatal(err)
				}
			}
			for _, u := range uris {
				p, err := s.Pending(u)
				if err != nil {
					rt.Fatal(err)
				}
				if len(p) != len(streams[u]) {
					rt.Fatalf("Pending(%s) = %d events, model %v", u, len(p), streams[u])
				}
				for i := range p {
					if p[i].Seq != streams[u][i] {
						rt.Fatalf("Pending(%s)[%d].Seq = %d, model %v", u, i, p[i].Seq, streams[u])
					}
				}
			}
			got, err := s.Subs()
			if err != nil {
				rt.Fatal(err)
			}
			if len(got) != len(subs) {
				rt.Fatalf("Subs = %v, model %v", got, subs)
			}
			for _, sub := range got {
				if !subs[key{sub.Subscriber, sub.Subject}] {
					rt.Fatalf("Subs has %v, model %v", sub, subs)
				}
			}
		}
	})
}
