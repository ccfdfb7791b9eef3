package mobile

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
)

func acceptAll() Validator {
	return ValidatorFunc(func(context.Context, *Request) error { return nil })
}

// goodClient calls add(1, 2) of module id in a loop on its own
// connection until stopped, counting the answers; any failure is
// reported at the end.
type goodClient struct {
	ok   atomic.Int64
	mu   sync.Mutex
	errs []error
	stop chan struct{}
	done chan struct{}
}

func startGoodClient(t *testing.T, s *served, id string) *goodClient {
	g := &goodClient{stop: make(chan struct{}), done: make(chan struct{})}
	p := s.proxy(t)
	go func() {
		defer close(g.done)
		for {
			select {
			case <-g.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			got, err := p.Call(ctx, "call", id, "add", 1, 2)
			cancel()
			if err == nil && got != int64(3) {
				err = &Error{Kind: ErrTrap, Msg: "add(1, 2) returned a wrong value"}
			}
			if err != nil {
				g.mu.Lock()
				g.errs = append(g.errs, err)
				g.mu.Unlock()
				continue
			}
			g.ok.Add(1)
		}
	}()
	t.Cleanup(g.finish)
	return g
}

func (g *goodClient) finish() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}

// TestHostileModules: each hostile module is stopped with a clear error
// while another client keeps calling a good module, and the daemon serves
// on.
func TestHostileModules(t *testing.T) {
	basic := goModule(t, "basic")
	badinit := goModule(t, "badinit")
	fsopen := goModule(t, "fsopen")
	const timeout = 2 * time.Second
	s := startServed(t, nil, WithValidator(acceptAll()), WithCallTimeout(timeout), WithMemoryPages(256),
		WithMaxModules(16, 16, 0), WithMaxModuleSize(8<<20))
	ctx := ctxT(t)
	// a deep native recursion grows wazero's stack through Go code, which
	// the race detector slows down: it gets a service with a generous cap
	generous := startServed(t, nil, WithValidator(acceptAll()), WithCallTimeout(testbound.Scale(20*time.Second)))
	p := s.proxy(t, pyro.WithSerializer("msgpack"))
	id, err := p.Call(ctx, "load", basic)
	if err != nil {
		t.Fatal(err)
	}
	good := startGoodClient(t, s, id.(string))

	nativeRecursion := rawModule(nil, []rawFunc{{body: opCall0, export: "recurse"}}, 1, -1, nil)
	startLoop := rawModule(nil, []rawFunc{{body: opLoopForever}, {body: nil, export: "f"}}, 1, 0, nil)
	sockImport := rawModule([]rawImport{{wasiModule, "sock_accept"}}, []rawFunc{{export: "f"}}, 1, -1, nil)
	envImport := rawModule([]rawImport{{"env", "system"}}, []rawFunc{{export: "f"}}, 1, -1, nil)
	bigMemory := rawModule(nil, []rawFunc{{export: "f"}}, 100000, -1, nil)
	dataOutside := rawModule(nil, []rawFunc{{export: "f"}}, 1, -1, make([]byte, 2*65536))
	compileFails := rawModule(nil, []rawFunc{{body: []byte{0x6a}, export: "f"}}, 1, -1, nil) // i32.add on an empty stack
	hdr := "\x00asm\x01\x00\x00\x00"
	funcType := append(section(1, vec([]byte{0x60, 0, 0})), section(3, vec(leb(0)))...)
	// vectors announcing billions of elements in a few bytes, which the
	// compiler would allocate before reading them (the data one aborted
	// the whole process with "fatal error: runtime: out of memory")
	dataBomb := []byte(hdr + "\x0b\x08\xd0\xd0\xd0\xd0\x0b\x02" + "00")
	localsBomb := append([]byte(hdr), append(funcType, section(10, vec(
		append(leb(8), bytes.Join([][]byte{leb(1), leb(0xffffffff), {0x7f}, {0x0b}}, nil)...)))...)...)
	elemBomb := append([]byte(hdr), section(9, leb(1), leb(1), []byte{0}, leb(0xfffffff))...)
	nameBomb := append([]byte(hdr), section(0, wname("name"), []byte{1}, leb(5), leb(0xffffffff))...)
	tableBomb := append([]byte(hdr), section(4, vec(append([]byte{0x70, 0}, leb(1<<27)...)))...)
	huge := append(append([]byte(nil), basic...), make([]byte, 9<<20)...)

	type hostile struct {
		name     string
		module   []byte
		fn       string
		args     []any
		class    string
		fragment []string
		slow     bool // takes the time cap: the good client must be served meanwhile
		generous bool // runs in the generous service
	}
	cases := []hostile{
		{"endless loop", basic, "spin", nil, "builtins.TimeoutError", []string{"spin", "stopped after", "time cap is 2s"}, true, false},
		{"memory growth past the cap", basic, "grow", []any{1000}, "builtins.MemoryError", []string{"grow", "ran out of memory", "256 pages"}, false, false},
		{"value function hogging memory", basic, "hog", nil, "builtins.MemoryError", []string{"hog", "ran out of memory"}, false, false},
		{"deep Go recursion", basic, "recurse", []any{1_000_000}, "builtins.MemoryError", []string{"recurse", "ran out of memory"}, false, false},
		{"deep native recursion", nativeRecursion, "recurse", nil, "builtins.RuntimeError", []string{"recurse", "trapped", "stack overflow"}, false, true},
		{"looping package init", badinit, "add", []any{1, 2}, "builtins.TimeoutError", []string{"starting an instance", "time cap"}, true, false},
		{"looping start function", startLoop, "f", nil, "builtins.TimeoutError", []string{"starting an instance", "time cap"}, true, false},
		{"data segment outside memory", dataOutside, "f", nil, "builtins.RuntimeError", []string{"starting an instance", "out of bounds"}, false, false},
		{"WASI filesystem import", fsopen, "", nil, "Pyro4.errors.SecurityError", []string{"path_open", "sandbox does not provide"}, false, false},
		{"WASI socket import", sockImport, "", nil, "Pyro4.errors.SecurityError", []string{"wasi_snapshot_preview1.sock_accept (func)"}, false, false},
		{"unknown host import", envImport, "", nil, "Pyro4.errors.SecurityError", []string{"env.system (func)"}, false, false},
		{"memory minimum past the cap", bigMemory, "", nil, "builtins.MemoryError", []string{"needs 100000 pages", "256"}, false, false},
		{"huge module", huge, "", nil, "builtins.MemoryError", []string{"larger than the 8388608 bytes"}, false, false},
		{"malformed bytes", []byte("\x00asm\x01\x00\x00\x00\x0a\xff\xff\xff\xff\x07junk"), "", nil, "builtins.ValueError", []string{"malformed module"}, false, false},
		{"not WebAssembly", []byte("MZ\x90\x00 not a module"), "", nil, "builtins.ValueError", []string{"not a WebAssembly module"}, false, false},
		{"data segment count bomb", dataBomb, "", nil, "builtins.MemoryError", []string{"3121883216 data segments"}, false, false},
		{"locals bomb", localsBomb, "", nil, "builtins.MemoryError", []string{"more than 50000 locals"}, false, false},
		{"element count bomb", elemBomb, "", nil, "builtins.MemoryError", []string{"function indexes"}, false, false},
		{"name section bomb", nameBomb, "", nil, "builtins.MemoryError", []string{"names"}, false, false},
		{"table size bomb", tableBomb, "", nil, "builtins.MemoryError", []string{"134217728 elements"}, false, false},
		{"invalid code", compileFails, "", nil, "builtins.ValueError", []string{"does not compile"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := s
			if c.generous {
				target = generous
			}
			hp := target.proxy(t, pyro.WithSerializer("msgpack"))
			before := good.ok.Load()
			mid, err := hp.Call(ctx, "load", c.module)
			if c.fn != "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				_, err = hp.Call(ctx, "call", append([]any{mid, c.fn}, c.args...)...)
			}
			wantRemote(t, err, c.class, c.fragment...)
			if c.slow && good.ok.Load() == before {
				t.Errorf("the good client got no answer while %s ran", c.name)
			}
			// the daemon serves on
			if got, err := s.proxy(t).Call(ctx, "call", id, "add", 20, 22); err != nil || got != int64(42) {
				t.Fatalf("after %s: add = %v, %v", c.name, got, err)
			}
		})
	}
	good.finish()
	if len(good.errs) > 0 {
		t.Fatalf("the good client saw %d errors, first: %v", len(good.errs), good.errs[0])
	}
	if good.ok.Load() == 0 {
		t.Fatal("the good client got no answer")
	}
	t.Logf("good client: %d calls served during the hostile modules", good.ok.Load())
}
