package mobile

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/tetratelabs/wazero"
)

// Defaults of the options; see each option for what it bounds.
const (
	DefaultMaxModuleSize         = 8 << 20  // bytes of one module
	DefaultMaxModules            = 16       // loaded modules in all
	DefaultMaxModulesPerClient   = 4        // modules one client keeps loaded
	DefaultMaxTotalSize          = 64 << 20 // bytes of all loaded modules
	DefaultMemoryPages           = 512      // 32 MiB of linear memory per instance
	DefaultCallTimeout           = 5 * time.Second
	DefaultMaxInstances          = 4 // instances running at once, server-wide
	DefaultMaxInstancesPerClient = 2
	DefaultQueueWait             = 10 * time.Second
	DefaultMaxResultSize         = 16 << 20 // bytes of one serialized result
	outputTail                   = 2048     // bytes of a module's stdout/stderr kept for error messages
)

// Option configures NewService.
type Option func(*options)

type options struct {
	log                *slog.Logger
	validator          Validator
	maxModuleSize      int
	maxModules         int
	maxModulesClient   int
	maxTotalSize       int64
	memoryPages        uint32
	callTimeout        time.Duration
	maxInstances       int
	maxInstancesClient int
	queueWait          time.Duration
	maxResultSize      int
	sysClock           bool
	rand               io.Reader
	cache              wazero.CompilationCache
	// hosts are host modules that modules may import besides WASI: the
	// seam through which agents (issue 13, item 4) will call granted
	// local objects. Their functions find the call's module and client
	// with callFrom(ctx).
	hosts []hostModule
	// grants are the agents' grants (agent.go); maxInvokes bounds the
	// invokes of one call
	grants     []Grant
	maxInvokes int
}

// hostModule is a host module instantiated in the service's runtime.
type hostModule struct {
	name        string
	funcs       []string
	instantiate func(ctx context.Context, rt wazero.Runtime) error
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithValidator adds code validators; all of them must accept a module
// (see Chain). Without any, every module is refused.
func WithValidator(vs ...Validator) Option {
	return func(o *options) {
		o.validator = Chain(append([]Validator{o.validator}, vs...)...)
	}
}

// WithMaxModuleSize bounds the size of one module in bytes (default
// DefaultMaxModuleSize), checked before anything else. Compiling costs
// CPU in proportion to the size (about 0.4 s per MiB of Go module on one
// core), and only modules a validator accepted are compiled, one at a
// time.
func WithMaxModuleSize(n int) Option { return func(o *options) { o.maxModuleSize = n } }

// WithMaxModules bounds the modules loaded at once (default
// DefaultMaxModules), per client (DefaultMaxModulesPerClient; a client
// is its passphrase identity, else its certificate name, else its host)
// and their total size in bytes (DefaultMaxTotalSize).
func WithMaxModules(total, perClient int, totalBytes int64) Option {
	return func(o *options) { o.maxModules, o.maxModulesClient, o.maxTotalSize = total, perClient, totalBytes }
}

// WithMemoryPages sets the most linear memory an instance may have, in
// 64 KiB pages (default DefaultMemoryPages, 32 MiB). A module that asks
// for more at start is refused at load; one that grows past it sees
// memory.grow fail (a Go module then stops with "out of memory").
func WithMemoryPages(pages uint32) Option { return func(o *options) { o.memoryPages = pages } }

// WithCallTimeout sets the time cap of one call, instantiation included
// (default DefaultCallTimeout). Past it the instance is stopped wherever
// it is (wazero checks at function entries and loop heads) and the caller
// gets a TimeoutError.
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.callTimeout = d } }

// WithMaxInstances bounds the instances running at once, in all (default
// DefaultMaxInstances) and per client (DefaultMaxInstancesPerClient). A
// client at its own bound is refused at once; a call that finds all
// instances busy waits up to WithQueueWait for one.
func WithMaxInstances(total, perClient int) Option {
	return func(o *options) { o.maxInstances, o.maxInstancesClient = total, perClient }
}

// WithQueueWait bounds how long a call waits for a free instance, and a
// load for the compiler (default DefaultQueueWait).
func WithQueueWait(d time.Duration) Option { return func(o *options) { o.queueWait = d } }

// WithMaxResultSize bounds the serialized result of a value function
// (default DefaultMaxResultSize).
func WithMaxResultSize(n int) Option { return func(o *options) { o.maxResultSize = n } }

// WithSystemClock grants modules the real clock: wall time, monotonic
// time and sleeping (poll_oneoff). Without it they see wazero's fake
// clock: a fixed wall time (2022-01-01), a monotonic time that advances
// 1 ms per reading, and sleeps that return at once.
func WithSystemClock() Option { return func(o *options) { o.sysClock = true } }

// WithRandom grants modules random bytes from r (crypto/rand.Reader, say).
// Without it random_get returns wazero's deterministic pseudo-random
// stream, the same in every instance: modules must not use it for
// secrets.
func WithRandom(r io.Reader) Option { return func(o *options) { o.rand = r } }

// WithCompilationCache shares wazero's compilation cache (in memory or
// on disk) between services, so a module loaded again is not compiled
// again.
func WithCompilationCache(c wazero.CompilationCache) Option { return func(o *options) { o.cache = c } }

func (o *options) fill() {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.validator == nil {
		o.validator = Chain()
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.maxModuleSize, DefaultMaxModuleSize)
	def(&o.maxModules, DefaultMaxModules)
	def(&o.maxModulesClient, DefaultMaxModulesPerClient)
	def(&o.maxInstances, DefaultMaxInstances)
	def(&o.maxInstancesClient, DefaultMaxInstancesPerClient)
	def(&o.maxResultSize, DefaultMaxResultSize)
	def(&o.maxInvokes, DefaultMaxInvokes)
	if o.maxTotalSize <= 0 {
		o.maxTotalSize = DefaultMaxTotalSize
	}
	if o.memoryPages == 0 || o.memoryPages > 65536 {
		o.memoryPages = DefaultMemoryPages
	}
	if o.callTimeout <= 0 {
		o.callTimeout = DefaultCallTimeout
	}
	if o.queueWait <= 0 {
		o.queueWait = DefaultQueueWait
	}
}

// withHost adds a host module (for agents; unexported until their
// policy exists).
func withHost(h hostModule) Option { return func(o *options) { o.hosts = append(o.hosts, h) } }
