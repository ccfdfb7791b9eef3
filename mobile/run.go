package mobile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// Names of the calling convention (spec.md, "Mobile code").
const (
	// ValuePrefix starts the export name of a value function: the
	// export "pyro_fn_filter" is called as "filter".
	ValuePrefix = "pyro_fn_"
	// AllocExport is the allocator a module with value functions exports:
	// pyro_alloc(size i32) -> ptr i32.
	AllocExport = "pyro_alloc"
	// errorFlag marks a value function's result as an error message.
	errorFlag = 1 << 31
)

// function is a callable export.
type function struct {
	name   string // as callers name it
	export string
	value  bool
	params []ValueType
	result []ValueType
}

// functions lists what a module offers callers: value functions
// (pyro_fn_NAME with (i32, i32) -> i64) and numeric functions (every
// other exported function whose parameters and results are numbers,
// except names starting with "_" or "pyro_").
func functions(info *Info) map[string]function {
	out := map[string]function{}
	for _, e := range info.Exports {
		if e.Kind != KindFunc {
			continue
		}
		if name, ok := strings.CutPrefix(e.Name, ValuePrefix); ok {
			if name != "" && len(e.Params) == 2 && e.Params[0] == I32 && e.Params[1] == I32 &&
				len(e.Results) == 1 && e.Results[0] == I64 {
				out[name] = function{name: name, export: e.Name, value: true}
			}
			continue
		}
		if strings.HasPrefix(e.Name, "_") || strings.HasPrefix(e.Name, "pyro_") {
			continue
		}
		if _, dup := out[e.Name]; dup {
			continue // a value function of that name wins
		}
		ok := true
		for _, t := range append(append([]ValueType(nil), e.Params...), e.Results...) {
			ok = ok && t.number()
		}
		if ok {
			out[e.Name] = function{name: e.Name, export: e.Name, params: e.Params, result: e.Results}
		}
	}
	return out
}

// output keeps the first and the last outputTail/2 bytes a module writes
// to stdout and stderr (a Go runtime's fatal error comes first, its
// goroutine dump after).
type output struct {
	mu    sync.Mutex
	head  []byte
	tail  []byte
	total int64
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	o.total += int64(n)
	const half = outputTail / 2
	if room := half - len(o.head); room > 0 {
		k := min(room, len(p))
		o.head = append(o.head, p[:k]...)
		p = p[k:]
	}
	if len(p) >= half {
		o.tail = append(o.tail[:0], p[len(p)-half:]...)
		return n, nil
	}
	if over := len(o.tail) + len(p) - half; over > 0 {
		o.tail = append(o.tail[:0], o.tail[over:]...)
	}
	o.tail = append(o.tail, p...)
	return n, nil
}

// String is a one-line digest: the first lines and, if there is more,
// the last one.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	head := strings.TrimSpace(strings.ToValidUTF8(string(o.head), "?"))
	if head == "" {
		return ""
	}
	var lines []string
	for l := range strings.Lines(head) {
		if l = strings.TrimSpace(l); l != "" && len(lines) < 3 {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, " | ")
	if o.total > int64(len(o.head)) {
		tl := strings.Split(strings.TrimSpace(strings.ToValidUTF8(string(o.tail), "?")), "\n")
		s += fmt.Sprintf(" | ... (%d bytes in all) | %s", o.total, strings.TrimSpace(tl[len(tl)-1]))
	}
	return s
}

// newRuntime makes the wazero runtime of a service: instances are closed
// when their call's context ends, and memories are capped.
func newRuntime(o *options) (wazero.Runtime, error) {
	cfg := wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithMemoryLimitPages(o.memoryPages)
	if o.cache != nil {
		cfg = cfg.WithCompilationCache(o.cache)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := instantiateWASI(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	for _, h := range o.hosts {
		if err := h.instantiate(ctx, rt); err != nil {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("mobile: host module %s: %w", h.name, err)
		}
	}
	return rt, nil
}

// moduleConfig is the configuration of one instance: nothing but what the
// options grant.
func (s *Service) moduleConfig(out *output) wazero.ModuleConfig {
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithStdout(out).WithStderr(out)
	if s.o.sysClock {
		mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	if s.o.rand != nil {
		mc = mc.WithRandSource(s.o.rand)
	}
	return mc
}

// run calls fn of m with args in a fresh instance, within the call's time
// cap.
func (s *Service) run(ctx context.Context, m *module, fn function, args []any) (any, error) {
	var params []uint64
	var data []byte
	var err error
	if fn.value {
		if data, err = encodeArgs(args); err != nil {
			return nil, err
		}
		if len(data) > int(s.o.memoryPages)*65536 {
			return nil, limitf("arguments of %d bytes do not fit in an instance's memory (%d pages)", len(data), s.o.memoryPages)
		}
	} else {
		if len(args) != len(fn.params) {
			return nil, invalidf("%s takes %d arguments (%s), %d given", fn.name, len(fn.params), typeList(fn.params), len(args))
		}
		params = make([]uint64, len(args))
		for i, a := range args {
			if params[i], err = numberArg(fn.name, i, fn.params[i], a); err != nil {
				return nil, err
			}
		}
	}
	callCtx, cancel := context.WithTimeoutCause(ctx, s.o.callTimeout, errCallTimeout)
	callCtx = context.WithValue(callCtx, callKey{}, &CallInfo{Module: m.id, Function: fn.name, Client: clientOf(ctx)})
	if a := memoryAllocator(); a != nil {
		callCtx = experimental.WithMemoryAllocator(callCtx, a)
	}
	defer cancel()
	start := time.Now()
	out := &output{}
	inst, err := s.rt.InstantiateModule(callCtx, m.cm, s.moduleConfig(out))
	if err != nil {
		return nil, s.failure(callCtx, m, fn, "starting an instance", err, out, nil, start)
	}
	defer inst.Close(context.Background())
	if !fn.value {
		res, err := inst.ExportedFunction(fn.export).Call(callCtx, params...)
		if err != nil {
			return nil, s.failure(callCtx, m, fn, "", err, out, inst, start)
		}
		switch len(res) {
		case 0:
			return nil, nil
		case 1:
			return numberResult(fn.result[0], res[0]), nil
		}
		l := make([]any, len(res))
		for i, r := range res {
			l[i] = numberResult(fn.result[i], r)
		}
		return l, nil
	}
	alloc := inst.ExportedFunction(AllocExport)
	if alloc == nil || len(alloc.Definition().ParamTypes()) != 1 || len(alloc.Definition().ResultTypes()) != 1 {
		return nil, invalidf("module %s has value functions but no %s(size i32) -> i32 export", short(m.id), AllocExport)
	}
	res, err := alloc.Call(callCtx, uint64(len(data)))
	if err != nil {
		return nil, s.failure(callCtx, m, fn, AllocExport, err, out, inst, start)
	}
	ptr := uint32(res[0])
	if !inst.Memory().Write(ptr, data) {
		return nil, newErr(ErrTrap, nil, "%s(%d) of module %s returned %#x, outside its memory", AllocExport, len(data), short(m.id), ptr)
	}
	res, err = inst.ExportedFunction(fn.export).Call(callCtx, uint64(ptr), uint64(len(data)))
	if err != nil {
		return nil, s.failure(callCtx, m, fn, "", err, out, inst, start)
	}
	rptr, rlen := uint32(res[0]>>32), uint32(res[0])
	isErr := rlen&errorFlag != 0
	rlen &^= errorFlag
	if !isErr && int64(rlen) > int64(s.o.maxResultSize) {
		return nil, limitf("%s returned %d bytes, more than the %d a result may have (WithMaxResultSize)", fn.name, rlen, s.o.maxResultSize)
	}
	if isErr && rlen > 1024 {
		rlen = 1024
	}
	view, ok := inst.Memory().Read(rptr, rlen)
	if !ok {
		return nil, newErr(ErrTrap, nil, "%s of module %s returned a result at %#x+%d, outside its memory", fn.name, short(m.id), rptr, rlen)
	}
	if isErr {
		return nil, newErr(ErrTrap, nil, "%s failed: %s", fn.name, strings.ToValidUTF8(string(view), "?"))
	}
	if rlen == 0 {
		return nil, nil
	}
	// the view dies with the instance (its memory is unmapped): decode a
	// copy
	return decodeResult(bytes.Clone(view))
}

var errCallTimeout = errors.New("call time cap reached")

// CallInfo describes the module call a host function serves.
type CallInfo struct {
	Module   string // module id
	Function string // as the caller named it
	Client   Client // who made the call

	invokes int // pyro.invoke calls so far (an instance runs one goroutine)
}

type callKey struct{}

// callFrom returns the module call that ctx (a host function's context)
// belongs to, or nil.
func callFrom(ctx context.Context) *CallInfo {
	c, _ := ctx.Value(callKey{}).(*CallInfo)
	return c
}

// failure turns what wazero returned into a clear error.
func (s *Service) failure(ctx context.Context, m *module, fn function, phase string, err error, out *output, inst api.Module, start time.Time) error {
	what := fn.name
	if phase != "" {
		what += " (" + phase + ")"
	}
	if context.Cause(ctx) == errCallTimeout {
		return newErr(ErrTimeout, err, "call of %s in module %s stopped after %v: its time cap is %v (WithCallTimeout)",
			what, short(m.id), time.Since(start).Round(time.Millisecond), s.o.callTimeout)
	}
	if ctx.Err() != nil {
		return newErr(ErrTrap, err, "call of %s in module %s cancelled: %v", what, short(m.id), context.Cause(ctx))
	}
	output := out.String()
	mem := ""
	if inst != nil && inst.Memory() != nil {
		mem = fmt.Sprintf("; its memory is %d of at most %d pages", inst.Memory().Size()/65536, s.o.memoryPages)
	}
	if strings.Contains(output, "out of memory") {
		return newErr(ErrLimit, err, "%s in module %s ran out of memory: an instance may have %d pages (%d MiB, WithMemoryPages)%s; module output: %s",
			what, short(m.id), s.o.memoryPages, s.o.memoryPages/16, mem, output)
	}
	if output != "" {
		output = "; module output: " + output
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return newErr(ErrTrap, err, "%s in module %s exited with code %d%s%s", what, short(m.id), exit.ExitCode(), mem, output)
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] // wazero appends a wasm stack trace
	}
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "?")
	}
	return newErr(ErrTrap, err, "%s in module %s trapped: %s%s%s", what, short(m.id), msg, mem, output)
}

func typeList(ts []ValueType) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// short abbreviates a module id for messages.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
