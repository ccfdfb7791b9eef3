package sqlstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/events"
	"github.com/pyrogo/pyro/py"
)

func tempStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "es.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// count returns the rows of a table.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int
	if err := s.conn.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ev(subject string, msg any) events.Event {
	return events.Event{Subject: subject, Msg: msg, Time: 1.5}
}

const (
	subA = "PYRO:a@127.0.0.1:9001"
	subB = "PYRO:b@127.0.0.1:9002"
)

func TestStoreOperations(t *testing.T) {
	s, path := tempStore(t)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new store file: %v, mode %v; want 0600", err, fi.Mode())
	}
	ca := events.Client{Network: "tcp", Addr: "127.0.0.1:5000", Identity: "alice", CommonName: "cn-a"}
	for _, sub := range []events.Sub{
		{Subscriber: subA, Kind: events.Exact, Subject: "lab.temp", Client: ca},
		{Subscriber: subA, Kind: events.Pattern, Subject: "lab\\..*", Client: ca},
		{Subscriber: subB, Kind: events.Exact, Subject: "lab.temp"},
		{Subscriber: subA, Kind: events.Exact, Subject: "lab.temp", Client: events.Client{Addr: "other"}}, // keeps the first Client
	} {
		if err := s.AddSub(sub); err != nil {
			t.Fatal(err)
		}
	}
	subs, err := s.Subs()
	if err != nil {
		t.Fatal(err)
	}
	want := []events.Sub{
		{Subscriber: subA, Kind: events.Exact, Subject: "lab.temp", Client: ca},
		{Subscriber: subA, Kind: events.Pattern, Subject: "lab\\..*", Client: ca},
		{Subscriber: subB, Kind: events.Exact, Subject: "lab.temp"},
	}
	if !slices.Equal(subs, want) {
		t.Fatalf("Subs = %+v\nwant %+v", subs, want)
	}
	recs := []events.Record{
		{Event: ev("lab.temp", int64(1)), Subscribers: []string{subA, subB}},
		{Event: ev("lab.x", "two"), Subscribers: []string{subA}},
		{Event: ev("lab.temp", nil), Subscribers: []string{"PYRO:gone@127.0.0.1:1", subB}},
	}
	if err := s.Append(recs); err != nil {
		t.Fatal(err)
	}
	if !(recs[0].Seq > 0 && recs[0].Seq < recs[1].Seq && recs[1].Seq < recs[2].Seq) {
		t.Fatalf("seqs %d %d %d do not increase", recs[0].Seq, recs[1].Seq, recs[2].Seq)
	}
	if n := count(t, s, "es_events"); n != 3 {
		t.Fatalf("%d event rows, want 3 (one per event, not per subscriber)", n)
	}
	pa, _ := s.Pending(subA)
	pb, _ := s.Pending(subB)
	if len(pa) != 2 || pa[0].Seq != recs[0].Seq || pa[1].Seq != recs[1].Seq || pa[1].Event.Msg != "two" ||
		pa[0].Event.Subject != "lab.temp" || pa[0].Event.Time != 1.5 {
		t.Fatalf("Pending(a) = %+v", pa)
	}
	if len(pb) != 2 || pb[1].Seq != recs[2].Seq || pb[1].Event.Msg != nil {
		t.Fatalf("Pending(b) = %+v", pb)
	}
	// acking a's first event keeps it for b
	if err := s.Ack(subA, recs[0].Seq); err != nil {
		t.Fatal(err)
	}
	if pa, _ := s.Pending(subA); len(pa) != 1 || pa[0].Seq != recs[1].Seq {
		t.Fatalf("Pending(a) after ack = %+v", pa)
	}
	if n := count(t, s, "es_events"); n != 3 {
		t.Fatalf("%d event rows after a's ack, want 3 (b still holds the first)", n)
	}
	if err := s.Ack(subB, recs[0].Seq); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "es_events"); n != 2 {
		t.Fatalf("%d event rows after both acks, want 2", n)
	}
	// removing a subscriber deletes its subscriptions and stream rows
	if err := s.RemoveSubscriber(subB); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "es_events"); n != 1 {
		t.Fatalf("%d event rows after removing b, want 1 (a's)", n)
	}
	if n := count(t, s, "es_streams"); n != 1 {
		t.Fatalf("%d stream rows after removing b, want 1", n)
	}
	if n := count(t, s, "es_subscribers"); n != 1 {
		t.Fatalf("%d subscribers after removing b, want 1", n)
	}
	if err := s.RemoveSub(events.Sub{Subscriber: subA, Kind: events.Pattern, Subject: "lab\\..*"}); err != nil {
		t.Fatal(err)
	}
	if subs, _ := s.Subs(); len(subs) != 1 || subs[0].Kind != events.Exact {
		t.Fatalf("Subs after RemoveSub = %+v", subs)
	}
	if err := s.RemoveSubscriber(subA); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"es_events", "es_streams", "es_subs", "es_subscribers"} {
		if n := count(t, s, table); n != 0 {
			t.Errorf("%s has %d rows after removing every subscriber", table, n)
		}
	}
}

// TestStoreReopen: subscriptions and unacked events survive Close and
// Open; sequence numbers keep increasing after a restart, also once
// every event was acked and deleted.
func TestStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "es.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.AddSub(events.Sub{Subscriber: subA, Kind: events.Exact, Subject: "x"})
	recs := []events.Record{{Event: ev("x", py.Tuple{int64(1), "a"}), Subscribers: []string{subA}},
		{Event: ev("x", int64(2)), Subscribers: []string{subA}}}
	if err := s.Append(recs); err != nil {
		t.Fatal(err)
	}
	last := recs[1].Seq
	_ = s.Ack(subA, recs[0].Seq)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if subs, _ := s.Subs(); len(subs) != 1 || subs[0].Subject != "x" {
		t.Fatalf("Subs after reopen = %+v", subs)
	}
	p, err := s.Pending(subA)
	if err != nil || len(p) != 1 || p[0].Seq != last || p[0].Event.Msg != int64(2) {
		t.Fatalf("Pending after reopen = %+v, %v", p, err)
	}
	_ = s.Ack(subA, last)
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs = []events.Record{{Event: ev("x", nil), Subscribers: []string{subA}}}
	if err := s.Append(recs); err != nil {
		t.Fatal(err)
	}
	if recs[0].Seq <= last {
		t.Fatalf("seq %d after restart, not above the last one %d", recs[0].Seq, last)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(garbage); !errors.Is(err, ErrNotEventStore) {
		t.Errorf("Open(garbage) = %v, want ErrNotEventStore", err)
	}
	other := filepath.Join(dir, "other.db")
	if err := plainSQLite(other); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other); !errors.Is(err, ErrNotEventStore) || !strings.Contains(err.Error(), "other.db") {
		t.Errorf("Open(another SQLite database) = %v, want ErrNotEventStore naming the file", err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(filepath.Join(dir, "target.db"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link); !errors.Is(err, ErrUnsafeFile) {
		t.Errorf("Open(symlink) = %v, want ErrUnsafeFile", err)
	}
	for _, name := range []string{"", ":memory:", "file:x?mode=memory"} {
		if _, err := Open(name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
	}
}

// TestOpenLocked: a second Open of a store in use fails with ErrLocked
// (here in one process: SQLite's locks are per connection); once the
// first is closed the file opens again.
func TestOpenLocked(t *testing.T) {
	s, path := tempStore(t)
	if _, err := Open(path); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open = %v, want ErrLocked naming the file", err)
	}
	_ = s.AddSub(events.Sub{Subscriber: subA, Kind: events.Exact, Subject: "x"})
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// TestOpenCorrupt: a store whose pages were overwritten is refused with
// ErrCorrupt (or ErrNotEventStore when the header is hit), not used.
func TestOpenCorrupt(t *testing.T) {
	s, path := tempStore(t)
	for i := range 200 {
		sub := "PYRO:s" + strings.Repeat("x", i%50) + "@127.0.0.1:1"
		_ = s.AddSub(events.Sub{Subscriber: sub, Kind: events.Exact, Subject: strings.Repeat("subject", 20) + string(rune('a'+i%26))})
		_ = s.Append([]events.Record{{Event: ev("x", strings.Repeat("m", 500)), Subscribers: []string{sub}}})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 8*4096 {
		t.Fatalf("store only %d bytes", len(data))
	}
	for i := 3 * 4096; i < len(data)-4096; i += 4096 {
		copy(data[i+100:i+400], strings.Repeat("\xff", 300))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(damaged) = %v, want ErrCorrupt", err)
	}
	t.Log(err)
}
