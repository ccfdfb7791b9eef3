package events_test

import (
	"errors"
	"testing"

	"github.com/pyrogo/pyro/events"
)

func TestOpenStoreSpecs(t *testing.T) {
	for _, spec := range []string{"", "memory"} {
		st, err := events.OpenStore(spec)
		if err != nil {
			t.Fatalf("OpenStore(%q): %v", spec, err)
		}
		if _, ok := st.(*events.MemoryStore); !ok {
			t.Errorf("OpenStore(%q) = %T, want *MemoryStore", spec, st)
		}
		st.Close()
	}
	for _, spec := range []string{"dbm:x", "nosuch:file", "sql", "memory:x", ":x"} {
		if _, err := events.OpenStore(spec); !errors.Is(err, events.ErrStoreSpec) {
			t.Errorf("OpenStore(%q) = %v, want ErrStoreSpec", spec, err)
		}
	}
}

func TestMemoryStoreSubKeepsFirstClient(t *testing.T) {
	m := events.NewMemoryStore()
	a := events.Sub{Subscriber: "PYRO:x@h:1", Kind: events.Exact, Subject: "s", Client: events.Client{Addr: "1"}}
	b := a
	b.Client.Addr = "2"
	if err := m.AddSub(a); err != nil {
		t.Fatal(err)
	}
	_ = m.AddSub(b)
	subs, _ := m.Subs()
	if len(subs) != 1 || subs[0].Client.Addr != "1" {
		t.Fatalf("subs = %+v, want the first one only", subs)
	}
	_ = m.RemoveSub(events.Sub{Subscriber: a.Subscriber, Kind: events.Exact, Subject: "s"})
	if subs, _ := m.Subs(); len(subs) != 0 {
		t.Fatalf("RemoveSub ignoring Client left %+v", subs)
	}
}
