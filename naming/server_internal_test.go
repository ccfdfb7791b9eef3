package naming

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit"
)

func TestMemoryStorageOrder(t *testing.T) {
	m := NewMemoryStorage()
	for _, n := range []string{"c", "a", "b"} {
		m.Put(Entry{Name: n, URI: "PYRO:" + n + "@h:1", Metadata: []string{"z", "y", "z"}})
	}
	m.Put(Entry{Name: "a", URI: "PYRO:new@h:1"}) // replaced in place
	m.Delete("c", "nope")
	m.Put(Entry{Name: "c", URI: "PYRO:c@h:2"}) // re-added at the end
	var names []string
	for e, err := range m.All() {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("order %v", names)
	}
	e, ok, _ := m.Get("b")
	if !ok || !slices.Equal(e.Metadata, []string{"y", "z"}) {
		t.Errorf("metadata %v", e.Metadata)
	}
	if e, _, _ := m.Get("a"); e.URI != "PYRO:new@h:1" || e.Metadata != nil {
		t.Errorf("replaced entry %+v", e)
	}
	if n, _ := m.Len(); n != 3 {
		t.Errorf("len %d", n)
	}
}

func TestOpenStorage(t *testing.T) {
	for _, spec := range []string{"", "memory"} {
		s, err := OpenStorage(spec)
		if _, ok := s.(*MemoryStorage); !ok || err != nil {
			t.Errorf("%q: %T %v", spec, s, err)
		}
	}
	for spec, want := range map[string]string{
		"bogus":   "invalid storage type 'bogus'",
		"sql:":    "invalid storage type 'sql:'",
		"dbm:x":   "storage type 'dbm' is not supported",
		"other:x": "invalid storage type 'other:x'",
	} {
		if _, err := OpenStorage(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", spec, err)
		}
	}
	registerTestScheme.Do(func() { RegisterStorage("test-scheme", testOpener) })
	if s, err := OpenStorage("test-scheme:x"); err != nil || s == nil {
		t.Errorf("registered scheme: %v", err)
	}
	if _, err := OpenStorage("test-scheme:y"); err == nil || err.Error() != "bad arg" {
		t.Errorf("opener error: %v", err)
	}
	if !slices.Contains(StorageSchemes(), "test-scheme") {
		t.Errorf("schemes %v", StorageSchemes())
	}
}

var registerTestScheme sync.Once

func testOpener(arg string) (Storage, error) {
	if arg != "x" {
		return nil, errors.New("bad arg")
	}
	return NewMemoryStorage(), nil
}

// failingStorage fails every operation after a point.
type failingStorage struct {
	*MemoryStorage
	fail bool
}

var errDisk = errors.New("disk on fire")

func (f *failingStorage) Get(name string) (Entry, bool, error) {
	if f.fail {
		return Entry{}, false, errDisk
	}
	return f.MemoryStorage.Get(name)
}

func (f *failingStorage) All() iter.Seq2[Entry, error] {
	if f.fail {
		return func(yield func(Entry, error) bool) { yield(Entry{}, errDisk) }
	}
	return f.MemoryStorage.All()
}

// A storage failure reaches the client as NamingError, and persistent
// entries of a previous run are kept, the server's own replaced.
func TestServerStorage(t *testing.T) {
	st := &failingStorage{MemoryStorage: NewMemoryStorage()}
	st.Put(Entry{Name: ObjectID, URI: "PYRO:Pyro.NameServer@old:1"})
	st.Put(Entry{Name: "kept", URI: "PYRO:k@h:1"})
	s := startNS(t, nil, WithStorage(st))
	c := nsClient(t, s.URI().String())
	ctx := ctxT(t)
	u, err := c.Lookup(ctx, ObjectID)
	if err != nil || !u.Equal(s.URI()) {
		t.Fatalf("own registration %v %v", u, err)
	}
	if n, _ := c.Count(ctx); n != 2 {
		t.Errorf("count %d", n)
	}
	st.fail = true
	_, err = c.Lookup(ctx, "kept")
	if !errors.Is(err, pyro.ErrNaming) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("lookup: %v", err)
	}
	if _, err := c.List(ctx, Filter{Prefix: "k"}); !errors.Is(err, pyro.ErrNaming) {
		t.Errorf("list: %v", err)
	}
}

// NS_AUTOCLEAN: the minimum, and removal of unreachable registrations.
func TestAutoclean(t *testing.T) {
	cfg := testConfig()
	cfg.NSAutoclean = time.Second
	if _, err := Start(cfg, WithHost("127.0.0.1"), WithPort(0)); err == nil || err.Error() != "NS_AUTOCLEAN cannot be smaller than 3" {
		t.Errorf("NS_AUTOCLEAN=1: %v", err)
	}
	s := startNS(t, nil, WithAutoclean(AutocleanTiming{Period: 20 * time.Millisecond, Tick: 10 * time.Millisecond,
		MaxUnreachable: 150 * time.Millisecond, ProbeTimeout: time.Second}))
	c := nsClient(t, s.URI().String())
	ctx := ctxT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	alive := fmt.Sprintf("PYRO:alive@%s", ln.Addr())
	dead := fmt.Sprintf("PYRO:dead@127.0.0.1:%d", testkit.FreeTCPPort(t))
	c.Register(ctx, "alive", alive, false, nil)
	c.Register(ctx, "dead", dead, false, nil)
	c.Register(ctx, "Pyro.Daemon", dead, false, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		regs, err := c.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range regs {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		got := strings.Join(names, " ")
		if got == "Pyro.Daemon Pyro.NameServer alive" {
			break
		}
		if got != "Pyro.Daemon Pyro.NameServer alive dead" || time.Now().After(deadline) {
			t.Fatalf("registrations: %s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Shutdown stops everything (goleak checks the goroutines) and closes
// the storage; Close after Shutdown is harmless.
func TestServerShutdown(t *testing.T) {
	s, err := Start(testConfig(), WithHost("127.0.0.1"), WithPort(0), withLoopbackBroadcast(), WithBroadcastHost("127.0.0.1"), WithBroadcastPort(0),
		WithAutoclean(AutocleanTiming{Period: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	c := nsClient(t, s.URI().String())
	if err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed")
	}
	if s.Err() != nil {
		t.Errorf("Err %v", s.Err())
	}
	s.Close()
}

// NAT: the registered URI is the external one, the broadcast answer the
// internal one.
func TestServerNAT(t *testing.T) {
	cfg := testConfig()
	cfg.NATHost, cfg.NATPort = "nat.example", 4242
	s := startNS(t, cfg)
	if s.URI().String() != "PYRO:Pyro.NameServer@nat.example:4242" || !s.NATActive() {
		t.Errorf("uri %v", s.URI())
	}
	if s.InternalURI().Host != "127.0.0.1" || s.InternalURI().Port != s.Addr().(*net.TCPAddr).Port {
		t.Errorf("internal uri %v", s.InternalURI())
	}
	e, _, _ := s.NameServer().store.Get(ObjectID)
	if e.URI != s.URI().String() {
		t.Errorf("own registration %v", e.URI)
	}
}

// The name server object exposes exactly Pyro5's methods, nothing else:
// Pyro4's and yplookup (which Pyro4 callers may call too; the metadata is
// the same for both protocols).
func TestNameServerMetadata(t *testing.T) {
	s := startNS(t, nil)
	p, err := pyro.NewProxy(s.URI().String(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	methods, oneway, attrs, err := p.Metadata(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(methods)
	if strings.Join(methods, " ") != "count list lookup ping register remove set_metadata yplookup" || len(oneway) != 0 || len(attrs) != 0 {
		t.Errorf("metadata: %v %v %v", methods, oneway, attrs)
	}
}

// IPv6 binds get no responder, with pyro4-ns's reason.
func TestServerIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	ln.Close()
	s := startNS(t, nil, WithHost("::1"), withLoopbackBroadcast())
	if s.NoBroadcastReason() != "IPv6" || s.URI().String() != "PYRO:Pyro.NameServer@[::1]:"+strconv.Itoa(s.URI().Port) {
		t.Errorf("%v %q", s.URI(), s.NoBroadcastReason())
	}
	p, err := Locate(ctxT(t), WithConfig(testConfig()), WithNSHost("::1"), WithNSPort(s.URI().Port))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}
