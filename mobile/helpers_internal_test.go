package mobile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/tetratelabs/wazero"
)

// buildDir holds the modules built by this test run (TestMain).
var buildDir string

var (
	buildMu    sync.Mutex
	builds     = map[string]*buildResult{}
	testCache  = newTestCache()
	moduleRoot = func() string { d, _ := filepath.Abs(filepath.Join("testdata", "mods")); return d }()
)

type buildResult struct {
	once sync.Once
	bin  []byte
	path string
	err  error
}

// newTestCache is a compilation cache on disk, kept between test runs
// (wazero keys it by its version and the module's hash), so that the Go
// test modules are compiled once per machine rather than per run: the
// compiler is Go code, which the race detector slows down tenfold.
func newTestCache() wazero.CompilationCache {
	if dir, err := os.UserCacheDir(); err == nil {
		if c, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "pyrogo", "mobile-test-wazero")); err == nil {
			return c
		}
	}
	return wazero.NewCompilationCache()
}

// goModule builds testdata/mods/name with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared, once per test run, offline.
func goModule(t testing.TB, name string) []byte {
	t.Helper()
	b, _ := goModuleFile(t, name)
	return b
}

func goModuleFile(t testing.TB, name string) ([]byte, string) {
	t.Helper()
	buildMu.Lock()
	r := builds[name]
	if r == nil {
		r = &buildResult{}
		builds[name] = r
	}
	buildMu.Unlock()
	r.once.Do(func() {
		r.path = filepath.Join(buildDir, name+".wasm")
		gobin, err := exec.LookPath("go")
		if err != nil {
			r.err = errors.New("building " + name + " needs the go command: " + err.Error())
			return
		}
		cmd := exec.Command(gobin, "build", "-trimpath", "-buildmode=c-shared", "-o", r.path, ".")
		cmd.Dir = filepath.Join(moduleRoot, name)
		env := []string{}
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			switch k {
			case "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOPROXY", "GOWASM":
				continue
			}
			env = append(env, kv)
		}
		// -race and other flags of the test run do not apply to the module
		cmd.Env = append(env, "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOPROXY=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.err = errors.New("building " + name + ": " + err.Error() + ": " + string(out))
			return
		}
		r.bin, r.err = os.ReadFile(r.path)
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.bin, r.path
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testbound.Scale(120*time.Second))
	t.Cleanup(cancel)
	return ctx
}

// idOf is the module id of bin.
func idOf(bin []byte) string {
	sum := sha256.Sum256(bin)
	return hex.EncodeToString(sum[:])
}

// newTestService makes a service with the test compilation cache.
func newTestService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	s, err := NewService(append([]Option{WithCompilationCache(testCache)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// served is a service in a loopback daemon.
type served struct {
	svc *Service
	uri pyro.URI
	cfg *pyro.Config
	d   *pyro.Daemon
}

func startServed(t testing.TB, dopts []pyro.DaemonOption, opts ...Option) *served {
	t.Helper()
	cfg := pyro.BuiltinConfig()
	cfg.SerializersAccepted = []string{"serpent", "marshal", "json", "msgpack"}
	d, err := pyro.NewDaemon(cfg, append([]pyro.DaemonOption{pyro.WithHost("127.0.0.1"), pyro.WithPort(0)}, dopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := Enable(d, append([]Option{WithCompilationCache(testCache)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	u, err := pyro.ParseURI("PYRO:" + ObjectID + "@" + d.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Serve(context.Background())
	}()
	t.Cleanup(func() {
		d.Close()
		<-done
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	return &served{svc: svc, uri: u, cfg: cfg, d: d}
}

func (s *served) proxy(t testing.TB, opts ...pyro.ProxyOption) *pyro.Proxy {
	t.Helper()
	p, err := pyro.NewProxyURI(s.uri, s.cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// remoteClass returns the Python class of a remote error ("" if none).
func remoteClass(err error) string {
	var re *pyro.RemoteError
	if errors.As(err, &re) {
		return re.Class()
	}
	return ""
}

// wantRemote fails unless err is a remote error of class with every
// fragment in its message.
func wantRemote(t testing.TB, err error, class string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", class)
	}
	if got := remoteClass(err); got != class {
		t.Fatalf("error class %q, want %q: %v", got, class, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not say %q", err, f)
		}
	}
}

// A tiny WebAssembly binary writer for hand-made (hostile) modules.

func leb(v uint32) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}

func wname(s string) []byte { return append(leb(uint32(len(s))), s...) }

func section(id byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(append([]byte{id}, leb(uint32(len(b)))...), b...)
}

func vec(items ...[]byte) []byte {
	return append(leb(uint32(len(items))), bytes.Join(items, nil)...)
}

type rawFunc struct {
	params, results []ValueType
	body            []byte // instructions, without locals and the final end
	export          string
}

type rawImport struct{ module, name string }

// rawModule writes a module of functions (each its own type), function
// imports of type () -> (), an optional memory of memMin pages, an
// optional start function and data.
func rawModule(imports []rawImport, funcs []rawFunc, memMin int, start int, data []byte) []byte {
	var types, fidx, codes, exports, ims [][]byte
	types = append(types, []byte{0x60, 0, 0}) // type 0: () -> ()
	for _, im := range imports {
		ims = append(ims, bytes.Join([][]byte{wname(im.module), wname(im.name), {0x00}, leb(0)}, nil))
	}
	for i, f := range funcs {
		ps := make([]byte, len(f.params))
		for j, p := range f.params {
			ps[j] = byte(p)
		}
		rs := make([]byte, len(f.results))
		for j, r := range f.results {
			rs[j] = byte(r)
		}
		types = append(types, bytes.Join([][]byte{{0x60}, leb(uint32(len(ps))), ps, leb(uint32(len(rs))), rs}, nil))
		fidx = append(fidx, leb(uint32(i+1)))
		body := append(append([]byte{0}, f.body...), 0x0b)
		codes = append(codes, append(leb(uint32(len(body))), body...))
		if f.export != "" {
			exports = append(exports, bytes.Join([][]byte{wname(f.export), {0x00}, leb(uint32(len(imports) + i))}, nil))
		}
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(1, vec(types...))...)
	if len(ims) > 0 {
		out = append(out, section(2, vec(ims...))...)
	}
	out = append(out, section(3, vec(fidx...))...)
	if memMin >= 0 {
		out = append(out, section(5, vec(append([]byte{0x00}, leb(uint32(memMin))...)))...)
	}
	out = append(out, section(7, vec(exports...))...)
	if start >= 0 {
		out = append(out, section(8, leb(uint32(start)))...)
	}
	out = append(out, section(10, vec(codes...))...)
	if data != nil {
		seg := bytes.Join([][]byte{{0x00, 0x41}, leb(0), {0x0b}, leb(uint32(len(data))), data}, nil)
		out = append(out, section(11, vec(seg))...)
	}
	return out
}

// Instructions.
var (
	opLoopForever = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	opCall0       = []byte{0x10, 0x00}
)

func i32const(v int32) []byte {
	// signed LEB128
	var out []byte
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append([]byte{0x41}, append(out, c)...)
		}
		out = append(out, c|0x80)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "!" + err.Error()
	}
	return string(b)
}

func withMsgpack() pyro.ProxyOption { return pyro.WithSerializer("msgpack") }
