package pyro

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
	"github.com/pyrogo/pyro/wire"
)

// Proxy calls the methods of one remote object. It is safe for concurrent
// use: concurrent calls use separate connections from a bounded pool, and
// a broken connection is replaced on the next call (auto-reconnect).
type Proxy struct {
	uri            URI
	cfg            *Config
	codec          codec.Codec  // the serializer in Pyro4's dialect (protocol 48)
	codec5         codec.Codec  // the serializer in Pyro5's dialect (protocol 502); nil if it has none
	mode           protoMode    // PROTOCOL / WithProtocol (proxyprotocol.go)
	wireOpts       wire.Options // protocol 48
	wireOpts5      wire.Options // protocol 502 (no HMAC)
	handshake      any
	checkHandshake func(any) error
	timeout        time.Duration
	maxConns       int
	resolver       Resolver
	ident          atomic.Pointer[clientAuth] // passphrase identification (auth.go)
	boundHMAC      bool                       // replay-protected HMAC mode (hmacbind.go)
	tlsConf        *tls.Config                // nil: no TLS (tls.go)
	tlsSet         bool                       // WithTLSConfig was given
	peerCheck      PeerCertCheck              // server certificate check (tls.go)
	log            *slog.Logger

	mu        sync.Mutex
	target    URI // resolved PYRO URI
	meta      *metadata
	lastProto wire.Protocol // the protocol of the last connection made
	idle      []*clientConn
	open      int
	wait      chan struct{} // signalled when a connection is returned or closed
	closed    bool
}

// NewProxy makes a proxy for a URI string (cfg nil = BuiltinConfig(); the
// proxy keeps a copy of cfg). It does not connect: the first call does.
// It checks the options and the config first (Config.Validate, the
// serializer) and reports every problem it finds in one error.
func NewProxy(uriText string, cfg *Config, opts ...ProxyOption) (*Proxy, error) {
	u, err := ParseURI(uriText)
	if err != nil {
		return nil, err
	}
	return NewProxyURI(u, cfg, opts...)
}

// NewProxyURI is NewProxy for a parsed URI.
func NewProxyURI(u URI, cfg *Config, opts ...ProxyOption) (*Proxy, error) {
	if cfg == nil {
		cfg = BuiltinConfig()
	} else {
		cfg = cfg.Clone()
	}
	return buildProxy(u, cfg, opts)
}

// buildProxy makes a proxy that keeps cfg itself (not a copy).
func buildProxy(u URI, cfg *Config, opts []ProxyOption) (*Proxy, error) {
	pc := proxyConfig{maxConns: 16, handshake: "hello"}
	for _, o := range opts {
		if o != nil {
			o.applyProxy(&pc)
		}
	}
	if err := pc.validate(cfg); err != nil {
		return nil, err
	}
	p := &Proxy{uri: u, cfg: cfg, codec: pc.codec, codec5: pc.codec5, mode: pc.mode, handshake: pc.handshake, checkHandshake: pc.checkHandshake,
		timeout: cfg.CommTimeout, maxConns: pc.maxConns, resolver: pc.resolver,
		boundHMAC: pc.boundHMAC, tlsConf: pc.tls, tlsSet: pc.tlsSet, peerCheck: pc.peerCheck,
		log: logOrDiscard(pc.logger), wait: make(chan struct{}, 1)}
	if pc.timeoutSet {
		p.timeout = pc.timeout
	}
	if p.resolver == nil {
		p.resolver = DefaultResolver()
	}
	p.ident.Store(pc.ident)
	p.wireOpts = wire.Options{MaxMessageSize: cfg.MaxMessageSize, HMACKey: cfg.HMACKey, Compress: cfg.Compression}
	if pc.hmacKeySet {
		p.wireOpts.HMACKey = pc.hmacKey
	}
	p.wireOpts5 = wire.Options{MaxMessageSize: cfg.MaxMessageSize, Compress: cfg.Compression, Protocol: wire.Protocol502}
	if u.Protocol == uri.ProtoPyro {
		p.target = u
	}
	if err := p.setupTLS(); err != nil {
		return nil, err
	}
	return p, nil
}

// URI returns the proxy's URI as given.
func (p *Proxy) URI() URI { return p.uri }

// Config returns a copy of the proxy's configuration.
func (p *Proxy) Config() *Config { return p.cfg.Clone() }

// HMACKey returns the HMAC key the proxy signs messages with (nil for
// none), so that helpers such as resolvers can talk to a name server with
// the same key.
func (p *Proxy) HMACKey() []byte { return p.wireOpts.HMACKey }

// clientConn is one connection of a proxy.
type clientConn struct {
	nc          net.Conn
	br          *bufio.Reader
	seq         uint16
	wbuf        []byte
	lastUsed    time.Time
	pbuf        []byte        // payload scratch, reused per call
	hasDeadline bool          // a deadline may be set on nc
	target      URI           // the PYRO URI this connection reached
	wopts       *wire.Options // per-connection options (bound HMAC, 502); nil = the proxy's
	proto       wire.Protocol // the protocol the connection speaks
	cd          codec.Codec   // the proxy's codec in that protocol's dialect
}

// staleCheckAfter is the idle time after which a pooled connection is
// checked before reuse.
const staleCheckAfter = 100 * time.Millisecond

// alive reports whether an idle connection is still open: the daemon
// sends nothing unasked, so readable data or EOF both mean it is unusable.
// It peeks at the socket without blocking.
func (c *clientConn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	return socketIdle(c.nc)
}

// Close closes the proxy's connections; later calls fail.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
	return nil
}

// acquire returns an idle connection or dials a new one, waiting while
// the pool is at its limit.
func (p *Proxy) acquire(ctx context.Context) (*clientConn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, NewError(ErrConnectionClosed, "the proxy has been closed")
		}
		if n := len(p.idle); n > 0 {
			c := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.mu.Unlock()
			if time.Since(c.lastUsed) > staleCheckAfter && !c.alive() {
				// the daemon dropped it while idle (COMMTIMEOUT, restart):
				// nothing was sent on it, so a fresh connection is safe
				p.release(c, true)
				continue
			}
			return c, nil
		}
		if p.open < p.maxConns {
			p.open++
			p.mu.Unlock()
			c, err := p.connect(ctx)
			if err != nil {
				p.mu.Lock()
				p.open--
				p.mu.Unlock()
				p.signal()
				return nil, err
			}
			return c, nil
		}
		p.mu.Unlock()
		select {
		case <-p.wait:
		case <-ctx.Done():
			return nil, ctxError(ctx.Err())
		}
	}
}

func (p *Proxy) signal() {
	select {
	case p.wait <- struct{}{}:
	default:
	}
}

func (p *Proxy) release(c *clientConn, broken bool) {
	p.mu.Lock()
	if broken || p.closed {
		p.open--
		p.mu.Unlock()
		c.nc.Close()
	} else {
		c.lastUsed = time.Now()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	p.signal()
}

func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return wrapError(ErrTimeout, "receiving: timeout", err)
	}
	return wrapError(ErrCommunication, "call cancelled: "+err.Error(), err)
}

// resolve returns the PYRO URI to connect to; a PYRONAME/PYROMETA URI
// is resolved again for every new connection, as Pyro does.
func (p *Proxy) resolve(ctx context.Context) (URI, error) {
	if p.uri.Protocol == uri.ProtoPyro {
		return p.uri, nil
	}
	if p.resolver == nil {
		return URI{}, NewError(ErrNaming, "cannot resolve "+p.uri.String()+": no name server resolver (import github.com/pyrogo/pyro/naming, or use WithResolver)")
	}
	return p.resolver.Resolve(ctx, p.uri, p)
}

// forget tells the proxy's resolver that target, an answer for the
// proxy's URI, could not be used (see ResolveForgetter).
func (p *Proxy) forget(target URI) {
	if f, ok := p.resolver.(ResolveForgetter); ok {
		f.Forget(p.uri, target)
	}
}

// connect resolves the proxy's URI, dials and performs the CONNECT
// handshake. When the target of a resolved URI fails, the resolver is
// told (ResolveForgetter) and a changed answer is tried once.
func (p *Proxy) connect(ctx context.Context) (*clientConn, error) {
	target, err := p.resolve(ctx)
	if err != nil {
		return nil, err
	}
	c, err := p.connectTo(ctx, target)
	if err != nil && p.uri.Protocol != uri.ProtoPyro && ctx.Err() == nil {
		p.forget(target)
		if t2, rerr := p.resolve(ctx); rerr == nil && !t2.Equal(target) {
			if c, err = p.connectTo(ctx, t2); err != nil {
				p.forget(t2)
			}
		}
	}
	return c, err
}

// connectTo dials target and performs the CONNECT handshake in the
// proxy's protocol: the fixed one, or in auto mode the remembered or
// detected one (proxyprotocol.go).
func (p *Proxy) connectTo(ctx context.Context, target URI) (*clientConn, error) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	network, addr, err := target.Dial()
	if err != nil {
		return nil, wrapError(ErrCommunication, err.Error(), err)
	}
	key := protocolKey(network, addr)
	proto := p.firstProtocol(network, addr)
	c, err := p.connectProto(ctx, target, network, addr, proto)
	var wp *wrongProtocolError
	if errors.As(err, &wp) && p.mode == modeAuto && (wp.answered == wire.Protocol48 || p.can502()) {
		// the other generation refused the CONNECT: dial again in its
		// protocol (once)
		c, err = p.connectProto(ctx, target, network, addr, wp.answered)
	}
	if errors.As(err, &wp) {
		return nil, p.wrongProtocol(target.Location(), wp)
	}
	if err == nil && p.mode == modeAuto {
		knownProtocols.set(key, c.proto)
	}
	return c, err
}

// wrongProtocol is the error for a daemon that refused the protocol the
// proxy may speak.
func (p *Proxy) wrongProtocol(loc string, wp *wrongProtocolError) error {
	why := "the proxy is set to " + protocolName(wp.sent)
	if p.mode == modeAuto {
		why = "the proxy has an HMAC key, and protocol 502 has no HMAC, so it speaks only 48"
	}
	return wrapError(ErrProtocol, fmt.Sprintf("cannot connect to %s: the daemon speaks protocol %s, not %s (it answered %q), and %s",
		loc, wp.answered, wp.sent, wp.reason, why), wp)
}

// connectProto dials target and performs the CONNECT handshake in
// protocol proto. A refusal in the other protocol is a
// *wrongProtocolError.
func (p *Proxy) connectProto(ctx context.Context, target URI, network, addr string, proto wire.Protocol) (*clientConn, error) {
	loc := target.Location()
	fail := func(err error) error {
		var pe *Error
		if errors.As(err, &pe) && pe.Class.isA(ErrConnectionDenied) {
			return err
		}
		if cerr := ctx.Err(); errors.Is(cerr, context.Canceled) {
			// the caller cancelled the connect, which the connection saw
			// as a timeout: say so, and errors.Is(err, context.Canceled)
			// holds (a deadline stays the timeout it is, below)
			return wrapError(ErrCommunication, "cannot connect to "+loc+": call cancelled: "+cerr.Error(), cerr)
		}
		class := ErrCommunication
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			class = ErrTimeout // a CommunicationError too, as in Pyro
		}
		return wrapError(class, "cannot connect to "+loc+": "+errText(err), err)
	}
	dctx := ctx
	if _, ok := ctx.Deadline(); !ok && p.timeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	var dialer net.Dialer
	nc, err := dialer.DialContext(dctx, network, addr)
	if err != nil {
		return nil, fail(err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if nc, err = p.startTLS(dctx, nc, target); err != nil {
		return nil, fail(err)
	}
	cd, wopts := p.codecFor(proto), p.optsFor(proto)
	c := &clientConn{nc: nc, br: bufio.NewReaderSize(nc, 8192), target: target, proto: proto, cd: cd}
	if proto == wire.Protocol502 {
		c.wopts = wopts
	}
	stop := p.deadline(dctx, c)
	defer stop()
	ident := p.ident.Load()
	hs := py.NewDict(2)
	hs.SetString("handshake", p.handshakeData(ident))
	var flags wire.Flags
	wantMeta := p.cfg.Metadata
	if wantMeta || proto == wire.Protocol502 {
		// Pyro5's CONNECT always names the object (its daemon reads it
		// unconditionally and always answers the metadata)
		hs.SetString("object", target.Object)
		flags = wire.FlagMetaOnConnect
	}
	data, err := cd.Marshal(hs)
	if err != nil {
		nc.Close()
		return nil, fail(err)
	}
	msg := &wire.Message{Version: proto, Type: wire.MsgConnect, Flags: flags, Seq: c.seq, SerializerID: uint16(cd.ID()), Data: data}
	var clientNonce []byte
	if p.boundHMAC {
		clientNonce = newBindNonce()
		msg.SetAnnotation(wire.AnnBindNonce, clientNonce)
	}
	wireLog := wireLogging(p.cfg, p.log)
	if wireLog {
		logWire(p.log, "proxy connect sending", msg)
	}
	if err := c.write(msg, wopts); err != nil {
		nc.Close()
		return nil, fail(netErr(err, "sending"))
	}
	// the answer may come in the other protocol: a daemon of the other
	// generation refusing this one
	ropts := *wopts
	ropts.AnyProtocol = true
	reply, err := wire.ReadMessage(c.br, &ropts)
	if err != nil && !(reply != nil && errors.Is(err, wire.ErrNoHMAC) && reply.Type == wire.MsgConnectFail) {
		nc.Close()
		return nil, fail(netErr(err, "receiving"))
	}
	if wireLog {
		logWire(p.log, "proxy connect response received", reply)
	}
	if reply.Version != proto {
		nc.Close()
		if reply.Type == wire.MsgConnectFail {
			reason := connectFailReason(reply)
			if reason == versionRefusal(proto) {
				return nil, &wrongProtocolError{sent: proto, answered: reply.Version, reason: reason}
			}
			return nil, NewError(ErrConnectionDenied, fmt.Sprintf("connection to %s rejected in protocol %s (the proxy spoke %s): %s", loc, reply.Version, proto, reason))
		}
		return nil, fail(NewError(ErrProtocol, fmt.Sprintf("the daemon answered a protocol %s CONNECT with a protocol %s %s", proto, reply.Version, reply.Type)))
	}
	switch reply.Type {
	case wire.MsgConnectOK:
	case wire.MsgConnectFail:
		nc.Close()
		return nil, NewError(ErrConnectionDenied, "connection to "+loc+" rejected: "+connectFailReason(reply))
	default:
		nc.Close()
		return nil, fail(NewError(ErrProtocol, fmt.Sprintf("invalid msg type %d received", reply.Type)))
	}
	rcd := codec.DefaultFor(codecProtocol(proto), int(reply.SerializerID))
	if rcd == nil {
		nc.Close()
		return nil, fail(NewError(ErrSerialize, fmt.Sprintf("invalid serializer in response: %d", reply.SerializerID)))
	}
	resp, err := rcd.Unmarshal(reply.Data)
	if err != nil {
		nc.Close()
		return nil, fail(wrapError(ErrSerialize, err.Error(), err))
	}
	var metaV any
	hasMeta := reply.Flags&wire.FlagMetaOnConnect != 0
	if hasMeta {
		d, ok := resp.(*py.Dict)
		if !ok && proto == wire.Protocol502 {
			nc.Close()
			return nil, fail(NewError(ErrProtocol, "the daemon's CONNECTOK holds "+py.TypeName(resp)+", not Pyro5's {'handshake', 'meta'} dict"))
		}
		resp, _ = d.GetString("handshake")
		metaV, _ = d.GetString("meta")
	}
	if p.boundHMAC {
		sn, ok := reply.Annotation(wire.AnnBindNonce)
		if !ok || len(sn) != wire.BindNonceSize {
			nc.Close()
			return nil, fail(NewError(ErrSecurity, "the daemon does not use replay-protected HMAC"))
		}
		c.wopts = (&boundNonces{client: clientNonce, server: sn}).options(&p.wireOpts, false)
	}
	if ident != nil {
		// the daemon's challenge: prove the passphrase, check its proof
		// (authclient.go); the metadata comes with its answer
		ar, err := p.proveIdentity(c, ident, resp, loc)
		if err != nil {
			nc.Close()
			return nil, err
		}
		resp, metaV, hasMeta = ar.data, ar.meta, ar.hasMeta
		if wantMeta && !hasMeta && proto == wire.Protocol502 {
			// a Pyro5 daemon answers the proof without the metadata,
			// which it withheld before it: ask for it now
			metaV, _, err = p.exchange(dctx, c, &codec.Call{Object: DaemonObjectID, Method: "get_metadata", Args: []any{target.Object}, Kwargs: py.NewDict(0)}, callOptions{})
			if err != nil {
				nc.Close()
				return nil, fail(err)
			}
			hasMeta = true
		}
		if wantMeta && !hasMeta {
			nc.Close()
			return nil, fail(NewError(ErrProtocol, "the daemon sent no metadata"))
		}
	}
	if hasMeta && wantMeta {
		md, err := metadataFrom(metaV)
		if err != nil {
			nc.Close()
			return nil, fail(err)
		}
		if len(md.Methods) == 0 && len(md.Attrs) == 0 {
			nc.Close()
			return nil, NewError(ErrPyro, "remote object doesn't expose any methods or attributes. Did you forget setting @expose on them?")
		}
		p.mu.Lock()
		p.meta = md
		p.mu.Unlock()
	}
	if p.checkHandshake != nil {
		if err := p.checkHandshake(resp); err != nil {
			nc.Close()
			return nil, fail(err)
		}
	}
	p.mu.Lock()
	p.lastProto = proto
	p.mu.Unlock()
	p.log.Debug("pyro: proxy connected", "uri", target.String(), "serializer", cd.Name(), "protocol", int(proto))
	return c, nil
}

// connectFailReason decodes the reason of a CONNECTFAIL (a str in the
// serializer its header names, in its protocol's numbering).
func connectFailReason(reply *wire.Message) string {
	if cd := codec.DefaultFor(codecProtocol(reply.Version), int(reply.SerializerID)); cd != nil {
		if v, err := cd.Unmarshal(reply.Data); err == nil {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return "(undecodable reason)"
}

// codecProtocol is the serializer dialect of a wire protocol.
func codecProtocol(v wire.Protocol) codec.Protocol {
	if v == wire.Protocol502 {
		return codec.Pyro5
	}
	return codec.Pyro4
}

// opts returns the wire options of the connection's messages after the
// handshake.
func (c *clientConn) opts(p *Proxy) *wire.Options {
	if c.wopts != nil {
		return c.wopts
	}
	return &p.wireOpts
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// metadataFrom reads {'methods':..., 'oneway':..., 'attrs':...}.
func metadataFrom(v any) (*metadata, error) {
	d, ok := v.(*py.Dict)
	if !ok {
		return nil, NewError(ErrProtocol, "metadata is "+py.TypeName(v))
	}
	md := &metadata{}
	for key, dst := range map[string]*[]string{"methods": &md.Methods, "oneway": &md.Oneway, "attrs": &md.Attrs} {
		x, _ := d.GetString(key)
		var items []any
		switch s := x.(type) {
		case []any:
			items = s
		case py.Tuple:
			items = s
		case *py.Set:
			items = s.Items()
		}
		for _, it := range items {
			if s, ok := it.(string); ok {
				*dst = append(*dst, s)
			}
		}
	}
	return md, nil
}

// deadline applies ctx's deadline (or the proxy timeout) to the
// connection and interrupts it when ctx is cancelled.
func (p *Proxy) deadline(ctx context.Context, c *clientConn) func() {
	var dl time.Time
	if d, ok := ctx.Deadline(); ok {
		dl = d
	} else if p.timeout > 0 {
		dl = time.Now().Add(p.timeout)
	}
	if !dl.IsZero() || c.hasDeadline {
		c.nc.SetDeadline(dl)
		c.hasDeadline = !dl.IsZero()
	}
	if ctx.Done() == nil {
		return func() {}
	}
	c.hasDeadline = true // the AfterFunc below may set one
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// write sends m: a small message copied into the connection's scratch
// buffer and written at once, a large one as its header and its payload
// in one writev, without copying the payload.
func (c *clientConn) write(m *wire.Message, o *wire.Options) error {
	head, payload, err := wire.AppendFrame(c.wbuf[:0], m, o)
	if err != nil {
		return err
	}
	if len(head)+len(payload) <= keepScratch {
		c.wbuf = append(head, payload...)
		_, err = c.nc.Write(c.wbuf)
		return err
	}
	c.wbuf = head
	bufs := net.Buffers{head, payload}
	_, err = bufs.WriteTo(c.nc)
	return err
}

// netErr maps a network error during a call to Pyro's classes.
func netErr(err error, op string) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return wrapError(ErrTimeout, op+": timeout", err)
	case errors.Is(err, wire.ErrClosed):
		return wrapError(ErrConnectionClosed, "receiving: not enough data", err)
	case errors.Is(err, wire.ErrTooLarge):
		return wrapError(ErrMessageTooLarge, err.Error(), err)
	case errors.Is(err, wire.ErrProtocol):
		return wrapError(ErrProtocol, err.Error(), err)
	case errors.Is(err, wire.ErrSecurity):
		return wrapError(ErrSecurity, err.Error(), err)
	}
	return wrapError(ErrConnectionClosed, op+": connection lost: "+err.Error(), err)
}

// Metadata returns the remote object's metadata, connecting if needed.
func (p *Proxy) Metadata(ctx context.Context) (methods, oneway, attrs []string, err error) {
	md, err := p.metadata(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return md.Methods, md.Oneway, md.Attrs, nil
}

func (p *Proxy) metadata(ctx context.Context) (*metadata, error) {
	p.mu.Lock()
	md := p.meta
	p.mu.Unlock()
	if md != nil || !p.cfg.Metadata {
		return md, nil
	}
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	p.release(c, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.meta, nil
}

// noKwargs is the empty kwargs dict of calls without keyword arguments;
// it is only ever read.
var noKwargs = py.NewDict(0)

// callOptions are per-call settings.
type callOptions struct {
	oneway bool
	batch  bool
}

// Call invokes a method with positional arguments and returns its result
// as a model value (see package py). A Python exception raised remotely
// is a *RemoteError.
func (p *Proxy) Call(ctx context.Context, method string, args ...any) (any, error) {
	return p.callKw(ctx, method, args, noKwargs)
}

// CallKw invokes a method with positional and keyword arguments. (To
// pass the keywords as an argument struct, and to convert the result,
// use CallKwT.)
func (p *Proxy) CallKw(ctx context.Context, method string, args []any, kwargs map[string]any) (any, error) {
	kw := noKwargs
	if len(kwargs) > 0 {
		kw = py.NewDict(len(kwargs))
		for k, v := range kwargs {
			kw.SetString(k, v)
		}
	}
	return p.callKw(ctx, method, args, kw)
}

// callKw invokes a method with positional arguments and the keyword
// arguments kw, which it does not change.
func (p *Proxy) callKw(ctx context.Context, method string, args []any, kw *py.Dict) (any, error) {
	md, err := p.metadata(ctx)
	if err != nil {
		return nil, err
	}
	var o callOptions
	if md != nil {
		if !contains(md.Methods, method) {
			if contains(md.Attrs, method) {
				return p.GetAttr(ctx, method)
			}
			return nil, NewError(ErrPyro, fmt.Sprintf("remote object '%s' has no exposed attribute or method '%s'", p.uri, method))
		}
		o.oneway = contains(md.Oneway, method)
	}
	return p.invoke(ctx, &codec.Call{Method: method, Args: args, Kwargs: kw}, o)
}

// Oneway invokes a method without waiting for (or getting) a reply,
// whatever the metadata says.
func (p *Proxy) Oneway(ctx context.Context, method string, args ...any) error {
	_, err := p.invoke(ctx, &codec.Call{Method: method, Args: args, Kwargs: py.NewDict(0)}, callOptions{oneway: true})
	return err
}

// GetAttr reads a remote attribute.
func (p *Proxy) GetAttr(ctx context.Context, name string) (any, error) {
	return p.invoke(ctx, &codec.Call{Method: "__getattr__", Args: []any{name}}, callOptions{})
}

// SetAttr writes a remote attribute.
func (p *Proxy) SetAttr(ctx context.Context, name string, value any) error {
	_, err := p.invoke(ctx, &codec.Call{Method: "__setattr__", Args: []any{name, value}}, callOptions{})
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// invoke runs one call with retries (MAX_RETRIES) on lost connections.
func (p *Proxy) invoke(ctx context.Context, call *codec.Call, o callOptions) (any, error) {
	for attempt := 0; ; attempt++ {
		v, err := p.invokeOnce(ctx, call, o)
		if err != nil && attempt < p.cfg.MaxRetries && (errors.Is(err, ErrConnectionClosed) || errors.Is(err, ErrTimeout)) && ctx.Err() == nil {
			continue
		}
		return v, err
	}
}

func (p *Proxy) invokeOnce(ctx context.Context, call *codec.Call, o callOptions) (any, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if call.Object == "" {
		// the object of this connection's target (a resolved URI may
		// reach different objects on different connections)
		cl := *call
		cl.Object = c.target.Object
		call = &cl
	}
	v, broken, err := p.exchange(ctx, c, call, o)
	p.release(c, broken)
	if err != nil && p.uri.Protocol != uri.ProtoPyro && (broken || errors.Is(err, ErrDaemon)) {
		p.forget(c.target)
	}
	return v, err
}

// exchange sends one INVOKE and reads its RESULT on c.
func (p *Proxy) exchange(ctx context.Context, c *clientConn, call *codec.Call, o callOptions) (any, bool, error) {
	stop := p.deadline(ctx, c)
	defer stop()
	var flags wire.Flags
	var blbi []byte // the BLBI annotation of a serialized blob (blob.go)
	var data []byte
	var err error
	if b := blobArg(call); b != nil {
		if data, blbi, err = blobRequest(c.cd, c.pbuf[:0], call, b); err != nil {
			return nil, false, err
		}
		flags |= wire.FlagKeepSerialized
	} else {
		data, err = c.cd.AppendCall(c.pbuf[:0], call)
		if err == nil && cap(data) <= keepScratch {
			c.pbuf = data // keep small buffers for the next call
		}
		if err != nil {
			return nil, false, wrapError(ErrSerialize, err.Error(), err)
		}
	}
	c.seq++
	if o.oneway {
		flags |= wire.FlagOneway
	}
	if o.batch {
		flags |= wire.FlagBatch
	}
	msg := &wire.Message{Type: wire.MsgInvoke, Flags: flags, Seq: c.seq, SerializerID: uint16(c.cd.ID()), Data: data}
	x := extrasFrom(ctx) // WithCorrelationID, WithRawReply (callreply.go)
	if x != nil && x.hasCorr {
		msg.CorrID = x.corr
	}
	if blbi != nil {
		msg.SetAnnotation(wire.AnnBlob, blbi)
	}
	wireLog := wireLogging(p.cfg, p.log)
	if wireLog {
		logWire(p.log, "proxy wiredata sending", msg)
	}
	if err := c.write(msg, c.opts(p)); err != nil {
		if errors.Is(err, wire.ErrTooLarge) {
			return nil, false, wrapError(ErrMessageTooLarge, err.Error(), err)
		}
		if ctx.Err() != nil { // cancelled or past its deadline while sending
			return nil, true, ctxError(ctx.Err())
		}
		return nil, true, netErr(err, "sending")
	}
	if o.oneway {
		return nil, false, nil
	}
	reply, err := wire.ReadMessage(c.br, c.opts(p))
	if err != nil {
		if ctx.Err() != nil {
			return nil, true, ctxError(ctx.Err())
		}
		return nil, true, netErr(err, "receiving")
	}
	if wireLog {
		logWire(p.log, "proxy wiredata received", reply)
	}
	if reply.Type != wire.MsgResult {
		return nil, true, NewError(ErrProtocol, fmt.Sprintf("invalid msg type %d received", reply.Type))
	}
	if reply.Seq != c.seq {
		return nil, true, NewError(ErrProtocol, fmt.Sprintf("invoke: reply sequence out of sync, got %d expected %d", reply.Seq, c.seq))
	}
	if int(reply.SerializerID) != c.cd.ID() {
		return nil, true, NewError(ErrSerialize, fmt.Sprintf("invalid serializer in response: %d", reply.SerializerID))
	}
	if x != nil && x.raw != nil {
		data := reply.Data // read into its own buffer: with rawOnly nothing else holds it
		if !x.rawOnly {
			data = append([]byte(nil), data...) // decoded values below may alias reply.Data
		}
		*x.raw = RawReply{Data: data, SerializerID: int(reply.SerializerID),
			Protocol: int(max(c.proto, wire.Protocol48)), Exception: reply.Flags&wire.FlagException != 0}
		if x.rawOnly && reply.Flags&wire.FlagItemStreamResult == 0 {
			if reply.Flags&wire.FlagException != 0 {
				return nil, true, ErrRawException
			}
			return nil, false, nil
		}
	}
	v, err := c.cd.Unmarshal(reply.Data)
	if err != nil {
		return nil, false, wrapError(ErrSerialize, "cannot decode result: "+err.Error(), err)
	}
	if reply.Flags&wire.FlagItemStreamResult != 0 {
		sid, ok := reply.Annotation(wire.AnnStream)
		if !ok {
			return nil, false, NewError(ErrProtocol, "result of call is an iterator, but the server is not configured to allow streaming")
		}
		return &Stream{p: p, id: string(sid)}, false, nil
	}
	if reply.Flags&wire.FlagException != 0 {
		exc, ok := v.(*py.Exception)
		if !ok {
			return nil, false, NewError(ErrProtocol, "exception reply does not hold an exception but "+py.TypeName(v))
		}
		re := &RemoteError{Exception: exc}
		// a daemon closes the connection after a SecurityError: do not
		// reuse it
		return nil, errors.Is(re, ErrSecurity), re
	}
	return p.liveProxies(v), false, nil
}

// liveProxies turns proxy references in a result into *Proxy values.
func (p *Proxy) liveProxies(v any) any {
	switch x := v.(type) {
	case *codec.ProxyRef:
		// the configuration is shared: no proxy changes its own
		np, err := buildProxy(x.URI, p.cfg, []ProxyOption{WithHMACKey(p.wireOpts.HMACKey), inheritTLS(p),
			WithResolver(p.resolver)})
		if err != nil {
			return v
		}
		np.codec, np.codec5, np.mode = p.codec, p.codec5, p.mode
		np.log = p.log
		np.handshake = x.Handshake
		np.ident.Store(p.ident.Load())
		np.boundHMAC = p.boundHMAC
		if np.handshake == nil {
			np.handshake = "hello"
		}
		return np
	case []any:
		for i, e := range x {
			x[i] = p.liveProxies(e)
		}
	case py.Tuple:
		for i, e := range x {
			x[i] = p.liveProxies(e)
		}
	case *py.Dict:
		// Pyro autoproxies registered objects at any depth, dict values
		// included; containers are converted in place
		for i := 0; i < x.Len(); i++ {
			switch e := x.Value(i).(type) {
			case *codec.ProxyRef:
				_ = x.Set(x.Key(i), p.liveProxies(e))
			case []any, py.Tuple, *py.Dict:
				p.liveProxies(e)
			}
		}
	}
	return v
}

// Stream is a remote item stream: the result of a method that returns an
// iterator. Iterate it with All; Close ends it early.
type Stream struct {
	p    *Proxy
	id   string
	done bool
}

// ID returns the stream id the daemon assigned.
func (s *Stream) ID() string { return s.id }

// Next fetches the next item; ok is false at the end of the stream.
func (s *Stream) Next(ctx context.Context) (v any, ok bool, err error) {
	if s.done {
		return nil, false, nil
	}
	v, err = s.p.invoke(ctx, &codec.Call{Object: DaemonObjectID, Method: "get_next_stream_item", Args: []any{s.id}, Kwargs: py.NewDict(0)}, callOptions{})
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.Class() == "builtins.StopIteration" {
			s.done = true
			return nil, false, nil
		}
		return nil, false, err
	}
	return v, true, nil
}

// All iterates over the remaining items; a failure is yielded as the
// last pair. Breaking out of the loop closes the stream.
func (s *Stream) All(ctx context.Context) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for {
			v, ok, err := s.Next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !ok {
				return
			}
			if !yield(v, nil) {
				s.Close(ctx)
				return
			}
		}
	}
}

// Close tells the daemon to drop the stream (a oneway call).
func (s *Stream) Close(ctx context.Context) error {
	if s.done {
		return nil
	}
	s.done = true
	_, err := s.p.invokeDaemon(ctx, "close_stream", callOptions{oneway: true}, s.id)
	return err
}

func (p *Proxy) invokeDaemon(ctx context.Context, method string, o callOptions, args ...any) (any, error) {
	return p.invoke(ctx, &codec.Call{Object: DaemonObjectID, Method: method, Args: args, Kwargs: py.NewDict(0)}, o)
}
