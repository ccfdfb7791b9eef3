package mobile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/accessrule"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// ObjectID is the id the service is registered under.
const ObjectID = "Pyro.MobileCode"

// Service is the mobile code service: it loads WebAssembly modules that
// its validators accept and runs their functions in a sandbox. Create it
// with NewService (or Enable), register it with Register, Close it after
// the daemon stopped. Its methods are safe for concurrent use.
type Service struct {
	o         options
	rt        wazero.Runtime
	hostFuncs map[string]map[string]bool  // importable functions of o.hosts
	daemon    atomic.Pointer[pyro.Daemon] // where agents' invokes go (Register)

	compile chan struct{} // one compile at a time
	slots   chan struct{} // running instances, server-wide

	ctx    context.Context // ends on Close: stops running calls
	cancel context.CancelFunc
	wg     sync.WaitGroup // loads and calls in progress

	mu      sync.Mutex
	closed  bool
	mods    map[string]*module
	total   int64          // bytes of loaded (and loading) modules
	running map[string]int // instances per client key
	owned   map[string]int // modules per client key
}

type module struct {
	id    string
	size  int
	info  *Info
	funcs map[string]function
	cm    wazero.CompiledModule

	ready chan struct{} // closed when compiled (or failed)
	err   error         // compile error, set before ready is closed

	loaders  map[string]Client // by Client.key()
	calls    int               // running calls
	unloaded bool
	loadedAt time.Time
}

// NewService returns a service with the options; without WithValidator
// it refuses every module.
func NewService(opts ...Option) (*Service, error) {
	s := &Service{mods: map[string]*module{}, running: map[string]int{}, owned: map[string]int{}}
	for _, opt := range opts {
		if opt != nil {
			opt(&s.o)
		}
	}
	s.o.fill()
	if err := checkGrants(s.o.grants); err != nil {
		return nil, err
	}
	if len(s.o.grants) > 0 {
		s.o.hosts = append(s.o.hosts, s.agentHost())
	}
	s.hostFuncs = map[string]map[string]bool{}
	for _, h := range s.o.hosts {
		m := map[string]bool{}
		for _, f := range h.funcs {
			m[f] = true
		}
		s.hostFuncs[h.name] = m
	}
	rt, err := newRuntime(&s.o)
	if err != nil {
		return nil, err
	}
	s.rt = rt
	s.compile = make(chan struct{}, 1)
	s.slots = make(chan struct{}, s.o.maxInstances)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	return err
}

// Enable creates a service and registers it in d under ObjectID: the one
// line that turns mobile code on. Close the service after d has stopped.
func Enable(d *pyro.Daemon, opts ...Option) (*Service, error) {
	s, err := NewService(opts...)
	if err != nil {
		return nil, err
	}
	if _, err := s.Register(d); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Register registers the service's remote object in d under ObjectID.
// Agents' invokes (WithGrants) go to d.
func (s *Service) Register(d *pyro.Daemon) (pyro.URI, error) {
	u, err := d.Register(&Remote{s: s}, ObjectID)
	if err == nil {
		s.daemon.Store(d)
	}
	return u, err
}

// clientOf is the caller of a daemon call (local when there is none).
func clientOf(ctx context.Context) Client {
	cc := pyro.CallContextFrom(ctx)
	if cc == nil || cc.Conn == nil {
		return Client{}
	}
	return Client{Addr: cc.Conn.RemoteAddr, Identity: cc.Conn.Identity,
		CommonName: accessrule.VerifiedCommonName(cc.Conn.TLS)}
}

// enter counts an operation in progress; false once closed.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// Load loads module for the caller of ctx (see Remote.Load) and returns
// its id, the hex SHA-256 of the module. Loading a loaded module again
// only records the caller as one of its loaders.
func (s *Service) Load(ctx context.Context, module, signature []byte) (string, error) {
	if !s.enter() {
		return "", ErrClosed
	}
	defer s.wg.Done()
	client := clientOf(ctx)
	if len(module) > s.o.maxModuleSize {
		return "", limitf("module of %d bytes is larger than the %d bytes a module may have (WithMaxModuleSize)", len(module), s.o.maxModuleSize)
	}
	sum := sha256.Sum256(module)
	id := hex.EncodeToString(sum[:])
	info, err := Inspect(module)
	if err != nil {
		return "", err
	}
	if err := checkImports(info, s.hostFuncs); err != nil {
		return "", err
	}
	if info.MemoryMin > s.o.memoryPages {
		return "", limitf("module needs %d pages of memory at start, more than the %d an instance may have (WithMemoryPages)", info.MemoryMin, s.o.memoryPages)
	}
	req := &Request{Client: client, ID: id, Sum: sum, Size: len(module), Info: info, Signature: signature, Module: module}
	if err := s.o.validator.ValidateModule(ctx, req); err != nil {
		s.o.log.Warn("mobile: module refused", "module", id, "client", client.String(), "reason", err.Error())
		return "", newErr(ErrRefused, err, "module %s refused: %v", short(id), err)
	}
	m, created, err := s.reserve(client, id, len(module), info)
	if err != nil || !created {
		if err == nil {
			err = s.await(ctx, m)
		}
		return id, err
	}
	err = s.compileModule(ctx, m, module)
	s.mu.Lock()
	if err != nil {
		m.err = err
		s.dropLocked(m)
	}
	close(m.ready)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.o.log.Info("mobile: module loaded", "module", id, "size", len(module), "client", client.String())
	return id, nil
}

// reserve records client as a loader of module id, creating its entry
// (to be compiled by the caller, created true) within the quotas.
func (s *Service) reserve(client Client, id string, size int, info *Info) (m *module, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	key := client.key()
	if m = s.mods[id]; m != nil {
		if _, ok := m.loaders[key]; ok {
			return m, false, nil
		}
		if err := s.clientQuota(client); err != nil {
			return nil, false, err
		}
		m.loaders[key] = client
		s.owned[key]++
		return m, false, nil
	}
	if len(s.mods) >= s.o.maxModules {
		return nil, false, limitf("%d modules are loaded, the most the service holds (WithMaxModules)", len(s.mods))
	}
	if err := s.clientQuota(client); err != nil {
		return nil, false, err
	}
	if s.total+int64(size) > s.o.maxTotalSize {
		return nil, false, limitf("loading %d more bytes would pass the %d bytes of modules the service holds (WithMaxModules)", size, s.o.maxTotalSize)
	}
	m = &module{id: id, size: size, info: info, funcs: functions(info), ready: make(chan struct{}),
		loaders: map[string]Client{key: client}, loadedAt: time.Now()}
	s.mods[id] = m
	s.total += int64(size)
	s.owned[key]++
	return m, true, nil
}

func (s *Service) clientQuota(client Client) error {
	if client.Local() {
		return nil
	}
	if n := s.owned[client.key()]; n >= s.o.maxModulesClient {
		return limitf("the %s has %d modules loaded, the most one client may have (WithMaxModules); unload one first", client, n)
	}
	return nil
}

// dropLocked removes m and gives back its quotas. s.mu held.
func (s *Service) dropLocked(m *module) {
	if s.mods[m.id] != m {
		return
	}
	delete(s.mods, m.id)
	s.total -= int64(m.size)
	for key := range m.loaders {
		if s.owned[key]--; s.owned[key] <= 0 {
			delete(s.owned, key)
		}
	}
	m.loaders = map[string]Client{}
	m.unloaded = true
	if m.calls == 0 && m.cm != nil {
		_ = m.cm.Close(context.Background())
	}
}

// await waits until m is compiled.
func (s *Service) await(ctx context.Context, m *module) error {
	t := time.NewTimer(s.o.queueWait)
	defer t.Stop()
	select {
	case <-m.ready:
		return m.err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrClosed
	case <-t.C:
		return limitf("module %s is still being compiled after %v", short(m.id), s.o.queueWait)
	}
}

// compileModule compiles m (one compile at a time) and checks its imports
// once more as the compiler sees them.
func (s *Service) compileModule(ctx context.Context, m *module, bin []byte) error {
	t := time.NewTimer(s.o.queueWait)
	defer t.Stop()
	select {
	case s.compile <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrClosed
	case <-t.C:
		return limitf("the compiler stayed busy for %v (WithQueueWait); try again later", s.o.queueWait)
	}
	defer func() { <-s.compile }()
	start := time.Now()
	cm, err := s.rt.CompileModule(s.ctx, bin)
	if err != nil {
		return newErr(ErrInvalid, err, "module %s does not compile: %v", short(m.id), err)
	}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		if (mod == wasiModule && !allowedWASI[name]) || (mod != wasiModule && !s.hostFuncs[mod][name]) {
			_ = cm.Close(context.Background())
			return refusedf("module imports %s.%s, which the sandbox does not provide", mod, name)
		}
	}
	if len(cm.ImportedMemories()) != 0 {
		_ = cm.Close(context.Background())
		return refusedf("module imports a memory, which the sandbox does not provide")
	}
	s.o.log.Debug("mobile: module compiled", "module", m.id, "size", m.size, "took", time.Since(start))
	s.mu.Lock()
	m.cm = cm
	s.mu.Unlock()
	return nil
}

// Call runs function of module id with args in a fresh instance.
func (s *Service) Call(ctx context.Context, id, function string, args ...any) (any, error) {
	if !s.enter() {
		return nil, ErrClosed
	}
	defer s.wg.Done()
	client := clientOf(ctx)
	s.mu.Lock()
	m := s.mods[id]
	if m == nil {
		s.mu.Unlock()
		return nil, invalidf("no module %s is loaded", id)
	}
	select {
	case <-m.ready:
	default:
		s.mu.Unlock()
		return nil, invalidf("module %s is still being compiled", short(id))
	}
	fn, ok := m.funcs[function]
	if !ok {
		s.mu.Unlock()
		return nil, invalidf("module %s has no function %q (it has: %s)", short(id), function, funcNames(m.funcs))
	}
	key := client.key()
	if !client.Local() && s.running[key] >= s.o.maxInstancesClient {
		n := s.running[key]
		s.mu.Unlock()
		return nil, limitf("the %s already runs %d calls, the most one client may (WithMaxInstances)", client, n)
	}
	s.running[key]++
	m.calls++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.running[key]--; s.running[key] <= 0 {
			delete(s.running, key)
		}
		m.calls--
		if m.unloaded && m.calls == 0 {
			_ = m.cm.Close(context.Background())
		}
		s.mu.Unlock()
	}()
	ctx, stop := mergeCancel(ctx, s.ctx)
	defer stop()
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-s.slots }()
	return s.run(ctx, m, fn, args)
}

// mergeCancel returns ctx, also cancelled when other ends.
func mergeCancel(ctx, other context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(other, func() { cancel(ErrClosed) })
	return ctx, func() { stop(); cancel(nil) }
}

// acquire takes an instance slot, waiting at most WithQueueWait.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.o.queueWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return limitf("all %d instances stayed busy for %v (WithMaxInstances, WithQueueWait); try again later", s.o.maxInstances, s.o.queueWait)
	}
}

func funcNames(fs map[string]function) string {
	if len(fs) == 0 {
		return "no callable function"
	}
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := ""
	for i, n := range names {
		if i == 20 {
			return out + ", ..."
		}
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// Unload forgets the caller's load of module id; the module goes when no
// loader is left (running calls finish first). A remote client may only
// unload what it loaded; a local call unloads the module for everyone.
func (s *Service) Unload(ctx context.Context, id string) error {
	client := clientOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	m := s.mods[id]
	if m == nil {
		return invalidf("no module %s is loaded", id)
	}
	if client.Local() {
		s.dropLocked(m)
		return nil
	}
	key := client.key()
	if _, ok := m.loaders[key]; !ok {
		return refusedf("module %s was not loaded by the %s: only its loaders may unload it", short(id), client)
	}
	delete(m.loaders, key)
	if s.owned[key]--; s.owned[key] <= 0 {
		delete(s.owned, key)
	}
	if len(m.loaders) == 0 {
		s.dropLocked(m)
	}
	return nil
}

// ModuleStatus describes a loaded module.
type ModuleStatus struct {
	ID        string
	Size      int
	Functions []string // callable functions, sorted
	// LoadedBy lists the loaders (Client.String) that the asking client
	// may see: all of them for a local call, only itself for a remote
	// client. Loaders counts all of them.
	LoadedBy []string
	Loaders  int
}

// Modules lists the loaded modules, sorted by id.
func (s *Service) Modules(ctx context.Context) []ModuleStatus {
	client := clientOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ModuleStatus, 0, len(s.mods))
	for _, m := range s.mods {
		select {
		case <-m.ready:
		default:
			continue
		}
		st := ModuleStatus{ID: m.id, Size: m.size, Loaders: len(m.loaders), LoadedBy: []string{}}
		for n := range m.funcs {
			st.Functions = append(st.Functions, n)
		}
		sort.Strings(st.Functions)
		for key, c := range m.loaders {
			if client.Local() || key == client.key() {
				st.LoadedBy = append(st.LoadedBy, c.String())
			}
		}
		sort.Strings(st.LoadedBy)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close stops running calls, unloads every module and frees the runtime.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	err := s.rt.Close(context.Background())
	s.mu.Lock()
	s.mods = map[string]*module{}
	s.total = 0
	s.mu.Unlock()
	return errors.Join(err)
}
