package pyro

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
	"github.com/pyrogo/pyro/wire"
)

// Reserved object ids.
const (
	DaemonObjectID     = "Pyro.Daemon"
	NameServerObjectID = "Pyro.NameServer"
)

// ErrDaemonClosed is returned by Serve after Shutdown or Close.
var ErrDaemonClosed = errors.New("pyro: daemon closed")

// InstanceMode says how a registered factory's instances are made.
type InstanceMode int

// Instance modes (Pyro's @behavior instance_mode).
const (
	// InstanceSingle: one instance for the daemon, made on first use.
	InstanceSingle InstanceMode = iota
	// InstanceSession: one instance per client connection (Pyro's default).
	InstanceSession
	// InstancePerCall: a new instance for every call.
	InstancePerCall
)

// HandshakeFunc validates a client's CONNECT. It gets the client's
// handshake value ("hello" from a default Python proxy) and returns the
// value sent back in CONNECTOK; an error refuses the connection with the
// error's text as the reason. It is Pyro's Daemon.validateHandshake.
type HandshakeFunc func(ctx context.Context, conn *ConnInfo, data any) (any, error)

// ConnInfo describes a client connection.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	// Identity names the passphrase the client authenticated with (see
	// Daemon.SetAllowedIdentifications); "" when none was required.
	Identity string
	// TLS is the state of the client's TLS connection (protocol version,
	// cipher suite, the client's verified certificates under mutual TLS);
	// nil without TLS.
	TLS *tls.ConnectionState
	// Handshake is the handshake data the client sent in its CONNECT
	// ("hello" from a default Python proxy; the application's data, not
	// the credentials, under passphrase authentication); nil until the
	// handshake is done.
	Handshake any
	// Protocol is the Pyro wire protocol version the client speaks: 48
	// (Pyro4) or 502 (Pyro5). A connection keeps the protocol of its
	// first message.
	Protocol int

	conn net.Conn      // the accepted connection, for PeerCredentials
	cnt  *countingConn // its byte counts, with an Observer (Bytes)
}

type registration struct {
	id      string
	obj     any // the instance (single mode, or registered value)
	factory func() any
	mode    InstanceMode
	ti      *typeInfo
}

// Daemon hosts Go values as Pyro objects. Create it with NewDaemon,
// register objects, then call Serve. Its methods are safe for concurrent
// use.
type Daemon struct {
	cfg           *Config
	log           *slog.Logger
	handshake     HandshakeFunc
	host          string
	port          int
	unixSocket    string
	ln            net.Listener
	listenerGiven bool
	locHost       string // host or sockname for URIs
	locPort       int
	wireOpts      wire.Options
	accepted      map[int]bool
	accepted5     map[int]bool      // accepted, as Pyro5 serializer ids (serverproto.go)
	mem           *memBudget        // MEMORY_BUDGET (budget.go)
	conv          py.ConvertOptions // how arguments are converted
	chain         CallFunc          // the interceptors' call chain (interceptor.go); nil without any
	obs           Observer          // told of connections and calls (observer.go); nil without one

	mu       sync.RWMutex
	objects  map[string]*registration
	byValue  map[any]string // registered pointer values -> id, for autoproxy
	typeMemo map[reflect.Type]*typeInfo

	streams streamTable

	connMu    sync.Mutex
	conns     map[*serverConn]struct{}
	connCount atomic.Int64
	sec       security      // validators, authentication, bound HMAC (validator.go)
	tlsConf   *tls.Config   // nil: no TLS (tls.go)
	peerCheck PeerCertCheck // client certificate check (tls.go)
	wg        sync.WaitGroup
	closing   atomic.Bool
	done      chan struct{}
	closeOnce sync.Once

	// connection states (connstate.go), guarded by connMu like conns
	idle         fifoList[serverConn, *serverConn] // idle connections, longest-idle first
	shuttingDown bool
	refusing     int // connections over CONNECTION_CAP being refused

	lim    limits        // resource limits (limits.go)
	oneway chan struct{} // slots for oneway calls of the daemon (ONEWAY_MAX); nil = no limit

	// ctx is the parent of every connection's context: a child of Serve's
	// context, cancelled (cause ErrDaemonClosed) when the daemon closes.
	ctx       context.Context
	cancelCtx context.CancelCauseFunc
}

// NewDaemon creates a daemon and binds its listener (cfg nil means
// BuiltinConfig(); the daemon keeps a copy of cfg). By default it binds to
// the config's HOST (localhost) on a free port. It checks the options and
// the config first (Config.Validate, the accepted serializers) and
// reports every problem it finds in one error.
func NewDaemon(cfg *Config, opts ...DaemonOption) (*Daemon, error) {
	if cfg == nil {
		cfg = BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	dc := daemonConfig{host: cfg.Host}
	for _, o := range opts {
		if o != nil {
			o.applyDaemon(&dc)
		}
	}
	if err := dc.validate(cfg); err != nil {
		return nil, err
	}
	chain, err := chainInterceptors(dc.interceptors)
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		cfg:           cfg,
		log:           logOrDiscard(dc.logger),
		handshake:     dc.handshake,
		host:          dc.host,
		port:          dc.port,
		unixSocket:    dc.unixSocket,
		ln:            dc.listener,
		listenerGiven: dc.listener != nil,
		objects:       map[string]*registration{},
		byValue:       map[any]string{},
		typeMemo:      map[reflect.Type]*typeInfo{},
		conns:         map[*serverConn]struct{}{},
		done:          make(chan struct{}),
		accepted:      dc.accepted,
		accepted5:     accepted5(dc.accepted, cfg.Source("SERIALIZERS_ACCEPTED") == SourceBuiltin),
		conv:          py.ConvertOptions{DisallowUnknownKeys: !dc.ignoreUnknownKeys},
		tlsConf:       dc.tls,
		peerCheck:     dc.peerCheck,
		chain:         chain,
		obs:           dc.observer,
	}
	d.wireOpts = wire.Options{MaxMessageSize: cfg.MaxMessageSize, HMACKey: cfg.HMACKey, Compress: cfg.Compression}
	if dc.hmacKeySet {
		d.wireOpts.HMACKey = dc.hmacKey
	}
	d.sec.boundHMAC = dc.boundHMAC
	d.sec.validators = dc.validators
	d.sec.unixMode, d.sec.unixModeSet = dc.unixMode, dc.unixModeSet
	d.sec.auth.endpoints = dc.authEndpoints
	if dc.identities != nil {
		d.SetAllowedIdentities(dc.identities)
	}
	d.mem = newMemBudget(cfg.MemoryBudget)
	d.lim = resolveLimits(cfg)
	d.streams.init(d.lim.streams, d.lim.streamsConn)
	if d.lim.oneway > 0 {
		d.oneway = make(chan struct{}, d.lim.oneway)
	}
	d.ctx, d.cancelCtx = context.WithCancelCause(context.Background())
	if err := d.listen(); err != nil {
		return nil, err
	}
	if _, err := d.Register(&daemonObject{d: d}, DaemonObjectID); err != nil {
		return nil, err
	}
	for _, f := range dc.afterNew {
		f(d)
	}
	return d, nil
}

// Addr returns the listener's address.
func (d *Daemon) Addr() net.Addr { return d.ln.Addr() }

// Config returns a copy of the daemon's configuration.
func (d *Daemon) Config() *Config { return d.cfg.Clone() }

// URIFor returns the URI of an object id in this daemon, with the NAT
// host/port when configured.
func (d *Daemon) URIFor(id string) URI {
	u := uri.URI{Protocol: uri.ProtoPyro, Object: id}
	if _, ok := d.ln.Addr().(*net.UnixAddr); ok {
		u.Sockname = d.locHost
		return u
	}
	u.Host, u.Port = d.locHost, d.locPort
	if d.cfg.NATHost != "" {
		u.Host = d.cfg.NATHost
		if d.cfg.NATPort != 0 {
			u.Port = d.cfg.NATPort
		}
	}
	return u
}

// Register exposes obj under id ("" generates obj_<32 hex digits>) and
// returns its URI. obj's exported methods become remote methods under
// their snake_case names (see Exposer for oneway methods, attributes,
// keyword parameter names and extra names; Args for methods that take
// keyword arguments in a struct). Registering an id twice is a
// DaemonError, and so is a value that exposes no method and no remote
// attribute (42, a struct without methods, a struct value whose methods
// have pointer receivers); the error says why. Exported methods whose
// signatures cannot be called remotely (a func, chan or unsafe pointer
// parameter; an argument struct that breaks its rules; more results than
// a value and an error) are not exposed and are named in a warning of the
// daemon's logger; Exposure.Hide silences it. The methods of one object
// are called concurrently, from one goroutine per client connection:
// guard shared state.
func (d *Daemon) Register(obj any, id string) (URI, error) {
	if obj == nil {
		return URI{}, NewError(ErrDaemon, "cannot register nil")
	}
	return d.register(&registration{obj: obj, mode: InstanceSingle}, id)
}

// RegisterFactory exposes a type whose instances factory creates
// according to mode (Pyro's registration of a class with @behavior).
func (d *Daemon) RegisterFactory(factory func() any, mode InstanceMode, id string) (URI, error) {
	if factory == nil {
		return URI{}, NewError(ErrDaemon, "nil factory")
	}
	return d.register(&registration{factory: factory, mode: mode}, id)
}

func (d *Daemon) register(r *registration, id string) (URI, error) {
	if id == "" {
		u := newUUID4()
		id = "obj_" + strings.ReplaceAll(uuidString(u), "-", "")
	}
	r.id = id
	// resolve the type now so a bad Exposure fails at registration
	var sample any = r.obj
	if sample == nil {
		sample = r.factory()
		if r.mode == InstanceSingle {
			r.obj = sample
		}
	}
	ti, err := d.typeInfo(sample)
	if err != nil {
		return URI{}, err
	}
	if err := exposesSomething(ti); err != nil {
		return URI{}, err
	}
	r.ti = ti
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.objects[id]; dup {
		return URI{}, NewError(ErrDaemon, "an object or class is already registered with that id")
	}
	if r.obj != nil && r.factory == nil && reflect.TypeOf(r.obj).Comparable() {
		if old, dup := d.byValue[r.obj]; dup && reflect.ValueOf(r.obj).Kind() == reflect.Pointer {
			return URI{}, NewError(ErrDaemon, "object or class already has a Pyro id: "+old)
		}
		if reflect.ValueOf(r.obj).Kind() == reflect.Pointer {
			d.byValue[r.obj] = id
		}
	}
	d.objects[id] = r
	return d.URIFor(id), nil
}

// Unregister removes an object id; Pyro.Daemon cannot be removed.
func (d *Daemon) Unregister(id string) error {
	if id == DaemonObjectID {
		return NewError(ErrDaemon, "cannot unregister the daemon object")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.objects[id]
	if !ok {
		return NewError(ErrDaemon, "object isn't registered")
	}
	delete(d.objects, id)
	if r.obj != nil {
		if reflect.TypeOf(r.obj).Comparable() {
			delete(d.byValue, r.obj)
		}
	}
	return nil
}

// Registered returns all registered object ids.
func (d *Daemon) Registered() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	ids := make([]string, 0, len(d.objects))
	for id := range d.objects {
		ids = append(ids, id)
	}
	return ids
}

func (d *Daemon) typeInfo(obj any) (*typeInfo, error) {
	t := reflect.TypeOf(obj)
	d.mu.RLock()
	ti := d.typeMemo[t]
	d.mu.RUnlock()
	if ti != nil {
		return ti, nil
	}
	var ex Exposure
	if e, ok := obj.(Exposer); ok {
		ex = e.PyroExpose()
	}
	ti, err := exposeType(t, ex)
	if err != nil {
		return nil, NewError(ErrDaemon, err.Error())
	}
	if len(ti.skipped) > 0 && exposesSomething(ti) == nil { // else Register's error names them
		d.log.Warn("pyro: exported methods not exposed: their signatures cannot be called remotely (hide them with PyroExpose().Hide)",
			"type", t.String(), "methods", strings.Join(ti.skipped, "; "))
	}
	d.mu.Lock()
	d.typeMemo[t] = ti
	d.mu.Unlock()
	return ti, nil
}

func (d *Daemon) lookup(id string) *registration {
	d.mu.RLock()
	r := d.objects[id]
	d.mu.RUnlock()
	return r
}

// instance returns the object a call on r goes to.
func (r *registration) instance(c *dispatcher) any {
	switch {
	case r.factory == nil:
		return r.obj
	case r.mode == InstanceSingle:
		return r.obj
	case r.mode == InstancePerCall:
		return r.factory()
	}
	// session
	if obj, ok := c.sessions[r.id]; ok {
		return obj
	}
	obj := r.factory()
	if c.sessions == nil {
		c.sessions = map[string]any{}
	}
	c.sessions[r.id] = obj
	return obj
}

// Serve accepts connections until Shutdown or Close, or until ctx is
// done (then it closes the daemon). It returns ErrDaemonClosed after a
// shutdown. When the daemon can be reached by others than its owner (a
// non-loopback address, an abstract or shared unix socket) and neither
// TLS, an HMAC key, passphrases nor an authenticating validator protect
// it, Serve first logs a warning that names the risk.
//
// Every connection gets a context derived from ctx (its values are
// visible to methods); it ends when the client disconnects during a call,
// when the connection is closed, or when the daemon closes. The context a
// method receives derives from it.
//
// At CONNECTION_CAP open connections (by default derived from the
// process's open-file limit), a new connection makes the daemon close the
// longest-idle one; when none is idle, the new client is refused with
// "server too busy". When the process runs out of file descriptors
// anyway, the daemon evicts an idle connection or waits and retries,
// without giving up.
func (d *Daemon) Serve(ctx context.Context) error {
	d.warnExposure()
	stop := context.AfterFunc(ctx, func() { d.Close() })
	defer stop()
	// under connMu, so that a Shutdown that already waits sees no Add
	d.connMu.Lock()
	if d.closing.Load() {
		d.connMu.Unlock()
		return ErrDaemonClosed
	}
	d.cancelCtx(nil) // the placeholder from NewDaemon; no connection uses it yet
	d.ctx, d.cancelCtx = context.WithCancelCause(ctx)
	d.wg.Add(1)
	d.connMu.Unlock()
	go func() {
		defer d.wg.Done()
		d.housekeeping()
	}()
	var delay time.Duration
	for {
		nc, err := d.ln.Accept()
		if err != nil {
			if d.closing.Load() {
				return ErrDaemonClosed
			}
			fdsOut := errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
			if fdsOut && d.evictIdle("out of file descriptors: "+err.Error()) {
				continue // a descriptor is free again
			}
			var ne net.Error
			if fdsOut || errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				d.log.Warn("pyro: accept failed, retrying", "err", err, "delay", delay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-d.done:
					t.Stop()
					return ErrDaemonClosed
				}
				continue
			}
			return wrapError(ErrCommunication, "accept: "+err.Error(), err)
		}
		delay = 0
		counted, cnt := d.countConn(nc)
		c := d.newConn(d.wrapConn(counted)) // TLS: the handshake runs in c.serve
		c.cnt, c.info.cnt = cnt, cnt
		d.connMu.Lock()
		if d.closing.Load() {
			d.connMu.Unlock()
			c.cancel(ErrDaemonClosed)
			nc.Close()
			return ErrDaemonClosed
		}
		var victim *serverConn
		if capN := d.lim.connCap; capN > 0 && len(d.conns) >= capN {
			if victim = d.evictIdleLocked(); victim == nil {
				if d.refusing >= maxRefusing {
					d.connMu.Unlock()
					d.log.Info("pyro: connection refused", "peer", nc.RemoteAddr(), "reason", "CONNECTION_CAP reached, none idle, too many refusals pending")
					c.cancel(errConnEnded)
					nc.Close()
					if d.obs != nil {
						d.obs.ConnOpened(&c.info)
						d.obs.ConnRefused(&c.info, RefusedConnectionCap)
						d.obs.ConnClosed(&c.info, c.connStats(false))
					}
					continue
				}
				d.refusing++
				c.refusing = true
				c.refusal = fmt.Errorf("%s: too many open connections (CONNECTION_CAP=%d), none idle", ReasonTooBusy, capN)
			}
		}
		d.trackLocked(c)
		if c.refusing {
			d.idle.remove(c) // not evictable: it holds no client
		}
		d.wg.Add(1)
		d.connMu.Unlock()
		if victim != nil {
			d.log.Info("pyro: evicting the longest-idle connection", "peer", victim.info.RemoteAddr,
				"idle", time.Since(victim.idleSince).Round(time.Millisecond), "reason", "CONNECTION_CAP reached", "cap", d.lim.connCap)
			victim.forceClose(errEvicted)
		}
		go func() {
			defer d.wg.Done()
			c.serve()
		}()
	}
}

// Shutdown stops accepting, closes idle connections, lets requests in
// progress finish (a request whose first byte arrived before the shutdown
// is answered, a later one is never started), then closes the remaining
// item streams. It waits for connections, oneway calls and streams to
// end, or for ctx: then it closes everything that remains, cancelling the
// contexts of running methods and streams, and returns ctx.Err() at once
// (a method that ignores its context may still be running then).
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.beginClose()
	d.closeIdleForShutdown()
	waited := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		d.Close()
		return ctx.Err()
	}
	select {
	case <-d.streams.closeAll():
		d.cancelCtx(ErrDaemonClosed)
		return nil
	case <-ctx.Done():
		d.Close()
		return ctx.Err()
	}
}

// Close closes the listener and every connection at once, and cancels the
// contexts of running methods, oneway calls and item streams. It does not
// wait for them; Shutdown does.
func (d *Daemon) Close() error {
	d.beginClose()
	d.connMu.Lock()
	cancel := d.cancelCtx
	d.connMu.Unlock()
	cancel(ErrDaemonClosed)
	d.closeAllConns()
	d.streams.closeAll()
	return nil
}

func (d *Daemon) beginClose() {
	d.closeOnce.Do(func() {
		d.closing.Store(true)
		close(d.done)
		d.ln.Close()
	})
}

func (d *Daemon) housekeeping() {
	period := d.cfg.PollTimeout
	if period <= 0 {
		period = 2 * time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-d.done:
			return
		case now := <-t.C:
			d.streams.expire(now, d.cfg.IterStreamLifetime, d.cfg.IterStreamLinger)
		}
	}
}

func (d *Daemon) removeConn(c *serverConn) {
	d.untrack(c)
	d.streams.detach(&c.calls, d.cfg.IterStreamLinger > 0)
}

// info is Pyro.Daemon.info().
func (d *Daemon) info() string {
	d.mu.RLock()
	n := len(d.objects)
	d.mu.RUnlock()
	var nat string = "None"
	if d.cfg.NATHost != "" {
		nat = d.URIFor("x").Location()
	}
	return fmt.Sprintf("Pyro.Daemon bound on %s, NAT %s, %d objects registered. Servertype: pyrogo goroutine-per-connection server",
		d.URIFor("x").Location(), nat, n)
}

var _ io.Closer = (*Daemon)(nil)
