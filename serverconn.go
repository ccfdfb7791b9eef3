package pyro

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/marshal"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// defaultHandshakeTimeout bounds how long a new client may take to send
// its CONNECT when no COMMTIMEOUT is configured: a silent client must not
// hold a connection forever before it has identified itself.
const defaultHandshakeTimeout = 10 * time.Second

type serverConn struct {
	d        *Daemon
	nc       net.Conn
	br       *bufio.Reader
	wbuf     []byte
	pbuf     []byte // payload scratch, reused per reply
	info     ConnInfo
	sessions map[string]any
	shake    any
	release  func()        // from the connection validators, called when the connection ends
	wopts    *wire.Options // the daemon's, or this connection's own for a bound HMAC or a budget
	mem      connMem       // this connection's share of the daemon's memory budget (budget.go)
	reply    replyMem      // the charge of the reply being encoded and sent
	tw       *tryWriter    // writes that need no deadline (trywrite_*.go)
	inHeld   int           // budget held by the request being handled

	// ctx is the connection's context, a child of the daemon's (Serve's);
	// it ends when the client disconnects during a call (ErrClientGone),
	// when the connection is evicted or closed, or when the daemon closes.
	ctx    context.Context
	cancel context.CancelCauseFunc

	wmu    sync.Mutex // serialises writes (oneway goroutines never write)
	closed atomic.Bool

	// guarded by d.connMu (connstate.go)
	state        connState
	idleSince    time.Time
	iprev, inext *serverConn // the daemon's idle list
	refusing     bool        // over CONNECTION_CAP: refused with a CONNECTFAIL

	refusal  error         // set before serve: refuse the connection with this reason
	nstreams int           // open item streams owned; guarded by d.streams.mu
	oneway   chan struct{} // slots for running oneway calls (ONEWAY_MAXCONN), made on first use
	peerGone atomic.Bool   // a read during a call found the client gone
	rr       requestReader // reads the current request (readRequest)
	rdl      time.Time     // the read deadline set on nc (serving goroutine only)
}

// connCtxKey is the context key of the *serverConn serving a call.
type connCtxKey struct{}

func (d *Daemon) newConn(nc net.Conn) *serverConn {
	c := &serverConn{d: d, nc: nc, br: bufio.NewReaderSize(nc, 8192), wopts: &d.wireOpts, mem: connMem{b: d.mem},
		info: ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr(), conn: nc}}
	c.ctx, c.cancel = context.WithCancelCause(context.WithValue(d.ctx, connCtxKey{}, c))
	c.reply.m = &c.mem
	c.tw = newTryWriter(nc)
	return c
}

func (c *serverConn) close() {
	if c.closed.CompareAndSwap(false, true) {
		c.nc.Close()
	}
}

// serve runs a connection: the TLS and Pyro handshakes, then requests
// until the client leaves, a limit ends the connection, or the daemon
// closes it.
func (c *serverConn) serve() {
	defer func() {
		c.cancel(errConnEnded)
		c.close()
		if c.release != nil {
			c.release()
		}
		c.d.removeConn(c)
	}()
	if !c.tlsHandshake() || !c.handshake() {
		return
	}
	c.chargeReads()
	c.d.log.Info("pyro: client connected", "peer", c.info.RemoteAddr, "identity", c.info.Identity)
	defer c.d.log.Info("pyro: client disconnected", "peer", c.info.RemoteAddr)
	wireLog := wireLogging(c.d.cfg, c.d.log)
	for !c.peerGone.Load() && c.d.setIdle(c) {
		if !c.awaitRequest() {
			return
		}
		if testHookBeforeActive != nil {
			testHookBeforeActive()
		}
		if !c.d.setActive(c) {
			return
		}
		msg, err := c.readRequest()
		if err != nil {
			if errors.Is(err, errMemoryBudget) {
				c.d.log.Warn("pyro: request refused, memory budget exhausted; dropping client", "peer", c.info.RemoteAddr, "err", err)
			} else {
				c.logReadError(err, "request")
			}
			return
		}
		if wireLog {
			c.d.logWire("daemon wiredata received", msg)
		}
		if testHookRequestRead != nil {
			testHookRequestRead()
		}
		c.inHeld = msg.Held()
		keep := c.handle(msg)
		c.mem.Release(c.inHeld)
		c.inHeld = 0
		if !keep {
			return
		}
	}
}

// awaitRequest waits for the first byte of the next request, at most the
// idle timeout; false means the connection is done.
func (c *serverConn) awaitRequest() bool {
	var deadline time.Time
	if t := c.d.lim.idle; t > 0 {
		deadline = time.Now().Add(t)
	}
	c.setReadDeadline(deadline)
	if _, err := c.br.Peek(1); err != nil {
		c.logReadError(err, "idle")
		return false
	}
	return true
}

// readRequest reads the request whose first byte has arrived, under the
// request deadline: REQUEST_TIMEOUT from now, moved on by the time each
// byte received is worth at REQUEST_MINRATE. So a message of any size
// that keeps arriving at that rate gets through, while a client that
// trickles bytes, or announces a large message and sends little, is
// dropped about REQUEST_TIMEOUT after it fell behind.
func (c *serverConn) readRequest() (*wire.Message, error) {
	l := &c.d.lim
	if l.request <= 0 {
		c.setReadDeadline(time.Time{})
		return wire.ReadMessage(c.br, c.wopts)
	}
	if c.buffered() {
		return wire.ReadMessage(c.br, c.wopts) // no read to bound
	}
	base := time.Now().Add(l.request)
	c.rr = requestReader{c: c, base: base}
	if l.minRate > 0 {
		c.rr.nsPerByte = float64(time.Second) / float64(l.minRate)
	}
	c.setReadDeadline(base)
	return wire.ReadMessage(&c.rr, c.wopts)
}

// buffered reports whether the whole next message is in the read buffer
// already (the common case for a small request).
func (c *serverConn) buffered() bool {
	n := c.br.Buffered()
	if n < wire.HeaderSize {
		return false
	}
	hb, _ := c.br.Peek(wire.HeaderSize)
	hd, err := wire.ParseHeader(hb)
	return err == nil && n >= wire.HeaderSize+hd.AnnotationsLen+hd.PayloadLen
}

// setReadDeadline sets the connection's read deadline unless it is set
// to that already.
func (c *serverConn) setReadDeadline(t time.Time) {
	if !t.Equal(c.rdl) {
		c.nc.SetReadDeadline(t)
		c.rdl = t
	}
}

// requestReader reads a request from the connection's buffer, moving the
// read deadline on as bytes arrive (see readRequest).
type requestReader struct {
	c         *serverConn
	base      time.Time // the deadline for the first bytes
	nsPerByte float64   // time each byte received earns; 0 = none
	n         int64     // bytes received
}

func (r *requestReader) Read(p []byte) (int, error) {
	if r.nsPerByte > 0 {
		// move the deadline in steps of at least a second: setting it
		// for every read would cost more than it is worth
		if dl := r.base.Add(time.Duration(float64(r.n) * r.nsPerByte)); dl.Sub(r.c.rdl) >= time.Second {
			r.c.setReadDeadline(dl)
		}
	}
	n, err := r.c.br.Read(p)
	r.n += int64(n)
	return n, err
}

// logReadError logs why reading from a client ended, unless the client
// simply left or the daemon closed the connection.
func (c *serverConn) logReadError(err error, phase string) {
	if errors.Is(err, wire.ErrClosed) || errors.Is(err, io.EOF) || c.ctx.Err() != nil {
		return
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && phase == "idle":
		c.d.log.Info("pyro: closing idle connection", "peer", c.info.RemoteAddr, "idle_timeout", c.d.lim.idle)
	case errors.As(err, &ne) && ne.Timeout():
		c.d.log.Info("pyro: dropping slow client: request not received in time", "peer", c.info.RemoteAddr,
			"request_timeout", c.d.lim.request, "min_rate", c.d.lim.minRate)
	default:
		c.d.log.Info("pyro: dropping client", "peer", c.info.RemoteAddr, "err", err)
	}
}

// watchPeer starts a read in the background while a call runs, so that a
// client that disconnects cancels the connection's context (as net/http
// does). The read takes at most one byte into the connection's buffer, so
// whatever a client sends meanwhile (oneway calls need not wait for
// replies) is kept for the next request. With data already buffered there
// is nothing to watch. The returned function stops the read and waits for
// it.
func (c *serverConn) watchPeer() (stop func()) {
	if c.br.Buffered() > 0 {
		return func() {}
	}
	c.setReadDeadline(time.Time{})
	done := make(chan struct{})
	var stopped atomic.Bool
	go func() {
		defer close(done)
		if _, err := c.br.Peek(1); err != nil && !stopped.Load() {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			c.peerGone.Store(true)
			c.cancel(ErrClientGone)
		}
	}()
	return func() {
		stopped.Store(true)
		c.setReadDeadline(aLongTimeAgo)
		<-done
	}
}

// Test hooks, nil outside tests: after a request's first byte arrived and
// before the connection is marked active; after a request was read and
// before it is handled.
var testHookBeforeActive, testHookRequestRead func()

// errConnEnded is the cause of a connection's context once its serving
// goroutine has ended.
var errConnEnded = errors.New("pyro: connection ended")

// aLongTimeAgo is a read deadline in the past: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// MaxHandshakeSize limits the CONNECT message (payload plus annotations,
// and the payload after decompression): a client that is not yet
// authenticated cannot make the daemon read or decode more than this.
// Larger CONNECTs are refused by closing the connection, undecoded.
const MaxHandshakeSize = 64 << 10

// handshake runs the connection validators and the CONNECT exchange;
// false means the connection is done.
//
// Order: the validators (limits, host lists, peer credentials) run first,
// on what the connection itself tells; the CONNECT is read under the
// handshake deadline and MaxHandshakeSize; a refused client gets its
// CONNECTFAIL only then, so the reason is not lost to a reset. Then the
// serializer check, the decoding of the handshake data, the start of
// passphrase authentication, the bound-HMAC nonce exchange; with
// passphrases the challenge and the proof (authserver.go); and last the
// application's HandshakeFunc.
func (c *serverConn) handshake() bool {
	d := c.d
	timeout := d.cfg.CommTimeout
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	deadline := time.Now().Add(timeout)
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	var release func()
	verr := c.refusal // over CONNECTION_CAP
	if verr == nil {
		vctx, cancel := context.WithDeadline(c.ctx, deadline)
		release, verr = d.validateConn(vctx, &c.info)
		cancel()
	}
	c.release = release
	if verr != nil {
		if t := time.Now().Add(refusalReadTimeout); t.Before(deadline) {
			c.nc.SetDeadline(t)
		}
	}
	opts := *c.wopts
	if opts.MaxMessageSize <= 0 || opts.MaxMessageSize > MaxHandshakeSize {
		opts.MaxMessageSize = MaxHandshakeSize
	}
	opts.MaxDecompressedSize = opts.MaxMessageSize
	msg, err := wire.ReadMessage(c.br, &opts)
	if err == nil && wireLogging(d.cfg, d.log) {
		d.logWire("daemon handshake received", msg)
	}
	if verr != nil {
		d.log.Info("pyro: connection refused", "peer", c.info.RemoteAddr, "reason", verr.Error())
		var ne net.Error
		if !errors.Is(err, wire.ErrClosed) && !errors.As(err, &ne) {
			var seq uint16
			if err == nil {
				seq = msg.Seq
			}
			c.connectFail(seq, verr.Error())
		}
		return false
	}
	if err != nil {
		if errors.Is(err, wire.ErrClosed) {
			return false
		}
		var ne net.Error
		if errors.As(err, &ne) {
			return false // timeout or network failure: nothing to answer
		}
		if errors.Is(err, wire.ErrTooLarge) {
			d.log.Info("pyro: oversized CONNECT, closing", "peer", c.info.RemoteAddr, "err", err)
			return false // Pyro closes without answering
		}
		c.connectFail(0, err.Error())
		return false
	}
	if msg.Type != wire.MsgConnect {
		c.connectFail(0, "invalid msg type "+strconv.Itoa(int(msg.Type))+" received")
		return false
	}
	id := int(msg.SerializerID)
	if !d.accepted[id] {
		c.connectFail(msg.Seq, "message used serializer that is not accepted: "+strconv.Itoa(id))
		return false
	}
	cd := codec.Default(id)
	v, err := cd.Unmarshal(msg.Data)
	if err != nil {
		c.connectFail(msg.Seq, "invalid handshake data: "+err.Error())
		return false
	}
	dict, _ := v.(*py.Dict)
	shake, ok := dict.GetString("handshake")
	if !ok {
		c.connectFail(msg.Seq, "'handshake'")
		return false
	}
	pending, err := d.sec.auth.begin(shake)
	if err != nil {
		detail := ""
		if ae, ok := err.(*authError); ok {
			detail = ae.Detail
		}
		d.log.Info("pyro: connection refused", "peer", c.info.RemoteAddr, "reason", err.Error(), "detail", detail)
		c.connectFailWith(cd, msg.Seq, err.Error())
		return false
	}
	var bind *boundNonces
	if d.sec.boundHMAC {
		if bind, err = serverBindNonces(msg); err != nil {
			d.log.Info("pyro: connection refused", "peer", c.info.RemoteAddr, "reason", err.Error())
			c.connectFailWith(cd, msg.Seq, err.Error())
			return false
		}
	}
	if pending != nil {
		return c.authenticate(pending, cd, msg, dict, bind, deadline) // authserver.go
	}
	c.shake = shake
	response, err := c.appHandshake(shake)
	if err != nil {
		d.log.Info("pyro: handshake refused", "peer", c.info.RemoteAddr, "reason", err.Error())
		c.connectFailWith(cd, msg.Seq, err.Error())
		return false
	}
	var flags wire.Flags
	if msg.Flags&wire.FlagMetaOnConnect != 0 {
		meta := c.connectMeta(dict)
		if meta == nil {
			c.connectFailWith(cd, msg.Seq, "unknown object")
			return false
		}
		rd := py.NewDict(2)
		rd.SetString("handshake", response)
		rd.SetString("meta", meta)
		response, flags = rd, wire.FlagMetaOnConnect
	}
	data, err := cd.Marshal(response)
	if err != nil {
		c.connectFailWith(cd, msg.Seq, "cannot serialize handshake response: "+err.Error())
		return false
	}
	reply := &wire.Message{Type: wire.MsgConnectOK, Flags: flags, Seq: msg.Seq, SerializerID: uint16(id), Data: data}
	reply.SetAnnotation(wire.AnnCorr, corrOf(msg))
	if bind != nil {
		reply.SetAnnotation(wire.AnnBindNonce, bind.server)
	}
	if c.send(reply) != nil {
		return false
	}
	if bind != nil {
		c.wopts = bind.options(c.wopts, true)
	}
	return true
}

// appHandshake runs the daemon's HandshakeFunc on the client's
// handshake data; without one the response is "hello".
func (c *serverConn) appHandshake(shake any) (any, error) {
	d := c.d
	if d.handshake == nil {
		return "hello", nil
	}
	ctx := context.WithValue(c.ctx, callCtxKey{}, &CallContext{Peer: c.info.RemoteAddr, Handshake: shake, TLS: c.info.TLS, Identity: c.info.Identity})
	return d.handshake(ctx, &c.info, shake)
}

// connectMeta returns the metadata (as lists) of the object a CONNECT
// with META_ON_CONNECT names, or nil for an unknown object.
func (c *serverConn) connectMeta(dict *py.Dict) *py.Dict {
	objID, _ := dict.GetString("object")
	sid, _ := objID.(string)
	r := c.d.lookup(sid)
	if r == nil {
		return nil
	}
	return r.ti.meta.value(true)
}

func corrOf(m *wire.Message) []byte {
	if v, ok := m.Annotation(wire.AnnCorr); ok && len(v) == 16 {
		return v
	}
	u := newUUID4()
	return u[:]
}

// connectFail answers with a marshal-encoded reason, as Pyro does for
// failures before the serializer is known to be acceptable.
func (c *serverConn) connectFail(seq uint16, reason string) {
	c.connectFailWith(codec.Default(codec.IDMarshal), seq, reason)
}

func (c *serverConn) connectFailWith(cd codec.Codec, seq uint16, reason string) {
	data, err := cd.Marshal(reason)
	if err != nil {
		data, _ = marshal.Marshal(reason)
		cd = codec.Default(codec.IDMarshal)
	}
	m := &wire.Message{Type: wire.MsgConnectFail, Seq: seq, SerializerID: uint16(cd.ID()), Data: data}
	_ = c.sendWithin(m, 5*time.Second)
}

// send writes m under the daemon's write deadline (budget.go).
func (c *serverConn) send(m *wire.Message) error {
	if wireLogging(c.d.cfg, c.d.log) {
		c.d.logWire("daemon wiredata sending", m)
	}
	return c.sendWithin(m, c.d.writeTimeout())
}

// handle serves one INVOKE or PING; false means close the connection.
func (c *serverConn) handle(msg *wire.Message) bool {
	d := c.d
	switch msg.Type {
	case wire.MsgPing:
		reply := &wire.Message{Type: wire.MsgPing, Seq: msg.Seq, SerializerID: msg.SerializerID, Data: []byte("pong")}
		reply.SetAnnotation(wire.AnnCorr, corrOf(msg))
		return c.send(reply) == nil
	case wire.MsgInvoke:
	default:
		// a second CONNECT or anything else: Pyro closes without a reply
		d.log.Info("pyro: unexpected message, closing", "peer", c.info.RemoteAddr, "type", msg.Type.String())
		return false
	}
	id := int(msg.SerializerID)
	oneway := msg.Flags&wire.FlagOneway != 0
	cd := codec.Default(id)
	if !d.accepted[id] {
		if cd != nil && !oneway {
			c.sendException(cd, msg, NewError(ErrSerialize, "message used serializer that is not accepted: "+strconv.Itoa(id)).Exception(), nil)
		}
		d.log.Info("pyro: request with serializer not accepted", "peer", c.info.RemoteAddr, "serializer", id)
		return false
	}
	decoding, err := c.chargeDecode(len(msg.Data))
	if err != nil {
		if !oneway {
			c.sendException(cd, msg, c.encodeFailure(err), nil)
		}
		return true
	}
	call, err := cd.UnmarshalCall(msg.Data)
	msg.Data = nil // decoded: its budget charge now stands for the arguments
	c.mem.Release(decoding)
	if err == nil && d.log.Enabled(context.Background(), slog.LevelDebug) {
		d.log.Debug("pyro: call", "peer", c.info.RemoteAddr, "object", call.Object, "method", call.Method,
			"oneway", oneway, "batch", msg.Flags&wire.FlagBatch != 0)
	}
	if err != nil {
		if !oneway {
			c.sendException(cd, msg, wrapError(ErrSerialize, "cannot decode call: "+err.Error(), err).Exception(), nil)
		}
		return true
	}
	if call.Object == DaemonObjectID && call.Method == AuthMethod {
		// a proof is answered once, before any call (authserver.go)
		if !oneway {
			c.sendException(cd, msg, NewError(ErrSecurity, reasonAuthNotPending).Exception(), nil)
		}
		d.log.Warn("pyro: authenticate call on an established connection, closing", "peer", c.info.RemoteAddr)
		return false
	}
	cc := &CallContext{Peer: c.info.RemoteAddr, Seq: msg.Seq, Flags: uint16(msg.Flags), SerializerID: id, Handshake: c.shake, TLS: c.info.TLS, Identity: c.info.Identity}
	copy(cc.CorrelationID[:], corrOf(msg))
	if len(msg.Annotations) > 0 {
		cc.Annotations = make(map[string][]byte, len(msg.Annotations))
		for _, a := range msg.Annotations {
			cc.Annotations[a.Key] = a.Value
		}
	}
	r := d.lookup(call.Object)
	if r == nil {
		if !oneway {
			c.sendException(cd, msg, NewError(ErrDaemon, "unknown object").Exception(), nil)
		}
		return true
	}
	obj := r.instance(c)
	if msg.Flags&wire.FlagBatch != 0 {
		if oneway { // inline, as in Pyro
			c.runBatch(d.ctx, cc, r, obj, call)
			return true
		}
		stop := c.watchPeer()
		results := c.runBatch(c.ctx, cc, r, obj, call)
		stop()
		return c.sendResult(cd, msg, cc, results, wire.FlagBatch)
	}
	switch call.Method {
	case "__getattr__", "__setattr__":
		v, err := c.attribute(r, obj, call)
		if oneway {
			return true
		}
		if err != nil {
			c.sendException(cd, msg, exceptionFor(err), nil)
			return true
		}
		return c.sendResult(cd, msg, cc, v, 0)
	}
	res, err := c.resolve(r, obj, call.Method)
	if err != nil {
		if !oneway {
			c.sendException(cd, msg, exceptionFor(err), nil)
		}
		return true
	}
	m, target := res.resolvedMethod()
	if target != nil {
		obj = target
	}
	if oneway {
		if !d.cfg.OnewayThreaded {
			c.runOneway(cc, m, obj, call)
			return true
		}
		if !c.acquireOneway() {
			return false // the connection or the daemon closed meanwhile
		}
		held := c.inHeld // the arguments live on in the goroutine
		c.inHeld = 0
		d.wg.Add(1) // this connection's own count keeps the group above zero
		go func() {
			defer d.wg.Done()
			defer c.releaseOneway()
			defer c.mem.Release(held)
			c.runOneway(cc, m, obj, call)
		}()
		return true
	}
	var result any
	if m.hasCtx {
		stop := c.watchPeer()
		result, err = c.invoke(c.ctx, cc, m, obj, call.Args, call.Kwargs)
		stop()
	} else {
		result, err = c.invoke(c.ctx, cc, m, obj, call.Args, call.Kwargs)
	}
	if err != nil {
		var tb []string
		if pe, ok := err.(*panicError); ok {
			tb = pe.traceback(d.cfg.DetailedTraceback)
		}
		exc := exceptionFor(err)
		if dropsConnection(exc) {
			return false // Pyro: a CommunicationError from a method drops the connection, no reply
		}
		c.sendException(cd, msg, exc, tb)
		if m.callback || errors.Is(err, ErrSecurity) {
			return false
		}
		return true
	}
	if d.cfg.IterStreaming {
		if seq, ok := result.(streamSource); ok {
			sid, err := d.streams.add(c, seq)
			if err != nil {
				d.log.Info("pyro: item stream refused", "peer", c.info.RemoteAddr, "reason", err.Error())
				c.sendException(cd, msg, exceptionFor(err), nil)
				return true
			}
			exc := &py.Exception{Class: ErrProtocol.PythonName(), Args: py.Tuple{"result of call is an iterator"}, Attributes: py.DictOf("_pyroTraceback", nil)}
			return c.sendStreamStart(cd, msg, exc, sid)
		}
	} else if seq, ok := result.(streamSource); ok {
		seq.release()
		c.sendException(cd, msg, NewError(ErrProtocol, "result of call is an iterator, but the server is not configured to allow streaming").Exception(), nil)
		return true
	}
	return c.sendResult(cd, msg, cc, result, 0)
}

// resolved is a method ready to call, possibly on an object reached
// through a dotted name.
type resolved interface{ resolvedMethod() (*method, any) }

func (m *method) resolvedMethod() (*method, any) { return m, nil }

// dottedMethod is a method of an object reached through exported fields.
type dottedMethod struct {
	method *method
	target any
}

func (d *dottedMethod) resolvedMethod() (*method, any) { return d.method, d.target }

// walkDotted follows "a.b.method" through exported struct fields of obj
// (DOTTEDNAMES; unsafe, off by default). Private names are refused at
// every step.
func (c *serverConn) walkDotted(obj any, name string) (any, string, error) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" || isPrivateName(p) {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access private attribute '%s'", p)}
		}
	}
	v := reflect.ValueOf(obj)
	for _, p := range parts[:len(parts)-1] {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'NoneType' object has no attribute '%s'", p)}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("cannot traverse '%s' in '%s'", p, name)}
		}
		f, ok := v.Type().FieldByName(py.Camel(p))
		if !ok || !f.IsExported() {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", v.Type().Name(), p)}
		}
		v = v.FieldByIndex(f.Index)
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() || !v.IsValid() {
		return nil, "", &PythonError{Class: "AttributeError", Msg: "'NoneType' object has no attribute '" + parts[len(parts)-1] + "'"}
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		v = v.Addr()
	}
	return v.Interface(), parts[len(parts)-1], nil
}

func (m *method) methodValue(obj any) reflect.Value {
	return reflect.ValueOf(obj).Method(m.index)
}

// resolve finds the method for a Python name with Pyro's rules and
// messages.
func (c *serverConn) resolve(r *registration, obj any, name string) (resolved, error) {
	if isPrivateName(name) {
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access private attribute '%s'", name)}
	}
	ti := r.ti
	if strings.Contains(name, ".") {
		if !c.d.cfg.DottedNames {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
		}
		target, last, err := c.walkDotted(obj, name)
		if err != nil {
			return nil, err
		}
		if ti, err = c.d.typeInfo(target); err != nil {
			return nil, err
		}
		obj, name = target, last
		if m, ok := ti.methods[name]; ok {
			return &dottedMethod{method: m, target: target}, nil
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
	}
	m, ok := ti.methods[name]
	if !ok {
		if _, isAttr := r.ti.attrs[name]; isAttr {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access unexposed attribute '%s'", name)}
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
	}
	return m, nil
}

func typeName(obj any) string {
	t := reflect.TypeOf(obj)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// panicError is a recovered panic of a method.
type panicError struct {
	method string
	value  any
	stack  []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic in method %s: %v", e.method, e.value)
}

func (e *panicError) Exception() *py.Exception {
	return &py.Exception{Class: "builtins.RuntimeError", Args: py.Tuple{e.Error()}}
}

func (e *panicError) traceback(detailed bool) []string {
	lines := []string{"Traceback (most recent call last):\n", "  Go method " + e.method + "\n"}
	if detailed {
		for _, l := range strings.Split(strings.TrimSpace(string(e.stack)), "\n") {
			lines = append(lines, "    "+l+"\n")
		}
	}
	return append(lines, "RuntimeError: "+e.Error()+"\n")
}

// invoke converts arguments, calls the method and recovers panics.
//
// A method that takes a context gets a child of parent carrying the
// CallContext: parent is the connection's context for a call that is
// answered (so the call's context ends when the client disconnects or the
// daemon closes), the daemon's for a oneway call (a client may send one
// and leave; it runs on, until the daemon closes). The context ends when
// the method returns, unless the result is a stream: then it lives as
// long as the stream, which may outlast the connection
// (ITER_STREAM_LINGER).
func (c *serverConn) invoke(parent context.Context, cc *CallContext, m *method, obj any, args []any, kwargs *py.Dict) (result any, err error) {
	var ctx context.Context
	var cancel context.CancelFunc
	detach := func() bool { return true }
	if m.hasCtx {
		var cancelCause context.CancelCauseFunc
		ctx, cancelCause = context.WithCancelCause(context.WithValue(context.WithoutCancel(parent), callCtxKey{}, cc))
		cancel = func() { cancelCause(nil) }
		detach = context.AfterFunc(parent, func() { cancelCause(context.Cause(parent)) })
		defer func() {
			if _, streamed := result.(streamSource); !streamed {
				detach()
				cancel()
			}
		}()
	}
	in, err := buildArgs(ctx, m, args, kwargs, c.d.conv)
	if err != nil {
		return nil, err
	}
	fn := m.methodValue(obj)
	defer func() {
		if p := recover(); p != nil {
			c.d.log.Error("pyro: method panicked", "method", m.goName, "panic", p)
			result, err = nil, &panicError{method: m.goName, value: p, stack: debug.Stack()}
		}
	}()
	var out []reflect.Value
	if m.variadic {
		out = fn.CallSlice(in)
	} else {
		out = fn.Call(in)
	}
	if m.errOut {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if !m.valOut {
		return nil, nil
	}
	rv := out[0]
	if isSeq(rv) {
		if cancel != nil {
			detach() // the stream's life, not the connection's, ends it now
		} else {
			ctx, cancel = context.WithCancel(context.Background())
		}
		seq, _ := seqOf(rv, ctx.Done())
		return streamSource{seq: seq, cancel: cancel}, nil
	}
	return c.autoproxy(rv.Interface()), nil
}

// runOneway runs a oneway call; its result is dropped.
func (c *serverConn) runOneway(cc *CallContext, m *method, obj any, call *codec.Call) {
	res, _ := c.invoke(c.d.ctx, cc, m, obj, call.Args, call.Kwargs)
	if s, ok := res.(streamSource); ok {
		s.release()
	}
}

// acquireOneway takes a slot for a oneway goroutine of this connection
// and one of the daemon (ONEWAY_MAXCONN, ONEWAY_MAX), waiting while they
// are all taken: the connection is not read meanwhile, so a client that
// sends oneway calls faster than they run is slowed down, and none is
// dropped. False when the connection's context ended while waiting.
func (c *serverConn) acquireOneway() bool {
	d := c.d
	if n := d.lim.onewayConn; n > 0 {
		if c.oneway == nil {
			c.oneway = make(chan struct{}, n)
		}
		if !c.acquire(c.oneway, "ONEWAY_MAXCONN", n) {
			return false
		}
	}
	if d.oneway != nil && !c.acquire(d.oneway, "ONEWAY_MAX", d.lim.oneway) {
		if c.oneway != nil {
			<-c.oneway
		}
		return false
	}
	return true
}

func (c *serverConn) acquire(sem chan struct{}, item string, n int) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	c.d.log.Debug("pyro: oneway calls at their limit, waiting for one to finish", "peer", c.info.RemoteAddr, "limit", item, "value", n)
	select {
	case sem <- struct{}{}:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// releaseOneway frees the slots taken by acquireOneway.
func (c *serverConn) releaseOneway() {
	if c.d.oneway != nil {
		<-c.d.oneway
	}
	if c.oneway != nil {
		<-c.oneway
	}
}

// buildArgs converts Python arguments to the method's parameter types.
func buildArgs(ctx context.Context, m *method, args []any, kwargs *py.Dict, conv py.ConvertOptions) ([]reflect.Value, error) {
	nfixed := len(m.params)
	if m.variadic {
		nfixed--
	}
	vals := make([]any, len(m.params))
	set := make([]bool, len(m.params))
	if len(args) > nfixed && !m.variadic {
		return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() takes %d positional arguments but %d were given", m.name, nfixed, len(args))}
	}
	var extra []any
	var extraSet []bool // variadic slots given (positionally or by keyword)
	for i, a := range args {
		if i < nfixed {
			vals[i], set[i] = a, true
		} else {
			extra = append(extra, a)
			extraSet = append(extraSet, true)
		}
	}
	var kw Kwargs
	for i := 0; i < kwargs.Len(); i++ {
		k, _ := kwargs.Key(i).(string)
		v := kwargs.Value(i)
		pos := -1
		for j, n := range m.names {
			if n == k && (j < len(m.params) || m.variadic) {
				pos = j
			}
		}
		if m.variadic && pos >= nfixed {
			// names past the fixed parameters name the variadic slots
			slot := pos - nfixed
			if slot < len(extra) && extraSet[slot] {
				return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got multiple values for argument '%s'", m.name, k)}
			}
			for len(extra) <= slot {
				extra = append(extra, nil)
				extraSet = append(extraSet, false)
			}
			extra[slot], extraSet[slot] = v, true
			continue
		}
		switch {
		case pos >= 0 && set[pos]:
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got multiple values for argument '%s'", m.name, k)}
		case pos >= 0:
			vals[pos], set[pos] = v, true
		case m.hasKw:
			if kw == nil {
				kw = Kwargs{}
			}
			kw[k] = v
		default:
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got an unexpected keyword argument '%s'", m.name, k)}
		}
	}
	in := make([]reflect.Value, 0, len(m.params)+2)
	if m.hasCtx {
		in = append(in, reflect.ValueOf(ctx))
	}
	for i := 0; i < nfixed; i++ {
		if !set[i] {
			name := strconv.Itoa(i + 1)
			if i < len(m.names) {
				name = "'" + m.names[i] + "'"
			}
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() missing required argument %s", m.name, name)}
		}
		p := reflect.New(m.params[i]).Elem()
		if err := conv.ConvertValue(p, vals[i]); err != nil {
			return nil, prefixArg(err, i+1)
		}
		in = append(in, p)
	}
	if m.variadic {
		st := m.params[len(m.params)-1]
		sl := reflect.MakeSlice(st, len(extra), len(extra))
		for i, a := range extra {
			if !extraSet[i] {
				continue // a skipped slot keeps the zero value
			}
			if err := conv.ConvertValue(sl.Index(i), a); err != nil {
				return nil, prefixArg(err, nfixed+i+1)
			}
		}
		in = append(in, sl)
	}
	if m.hasKw {
		if kw == nil {
			kw = Kwargs{}
		}
		in = append(in, reflect.ValueOf(kw))
	}
	return in, nil
}

func prefixArg(err error, n int) error {
	var ce *py.ConvertError
	if errors.As(err, &ce) {
		return &PythonError{Class: "TypeError", Msg: "arg " + strconv.Itoa(n) + ": " + ce.Error()}
	}
	return &PythonError{Class: "TypeError", Msg: "arg " + strconv.Itoa(n) + ": " + err.Error()}
}

func (c *serverConn) runBatch(parent context.Context, cc *CallContext, r *registration, obj any, call *codec.Call) []any {
	results := make([]any, 0, len(call.Args))
	for _, item := range call.Args {
		var parts []any
		switch t := item.(type) {
		case py.Tuple:
			parts = t
		case []any:
			parts = t
		}
		var err error
		var res any
		if len(parts) != 3 {
			err = &PythonError{Class: "ValueError", Msg: "batch item is not a (method, vargs, kwargs) triple"}
		} else {
			name, _ := parts[0].(string)
			var args []any
			switch a := parts[1].(type) {
			case py.Tuple:
				args = a
			case []any:
				args = a
			}
			kw, _ := parts[2].(*py.Dict)
			var rm resolved
			if rm, err = c.resolve(r, obj, name); err == nil {
				m, target := rm.resolvedMethod()
				callObj := obj
				if target != nil {
					callObj = target
				}
				res, err = c.invoke(parent, cc, m, callObj, args, kw)
				if s, ok := res.(streamSource); ok {
					s.release()
					res = nil
					err = NewError(ErrProtocol, "result of call is an iterator, which a batch cannot return")
				}
			}
		}
		if err != nil {
			exc := exceptionFor(err)
			if pe, ok := err.(*panicError); ok {
				exc.Attributes = py.DictOf("_pyroTraceback", toAnyList(pe.traceback(c.d.cfg.DetailedTraceback)))
			} else {
				exc.Attributes = py.DictOf("_pyroTraceback", toAnyList(simpleTraceback(exc)))
			}
			results = append(results, &codec.ExceptionWrapper{Exception: exc})
			break
		}
		results = append(results, res)
	}
	return results
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func simpleTraceback(exc *py.Exception) []string {
	return []string{"Traceback (most recent call last):\n", "  (remote Go call)\n", exc.ShortClass() + ": " + exc.Message() + "\n"}
}

func (c *serverConn) attribute(r *registration, obj any, call *codec.Call) (any, error) {
	if len(call.Args) < 1 {
		return nil, &PythonError{Class: "TypeError", Msg: call.Method + " needs an attribute name"}
	}
	name, _ := call.Args[0].(string)
	a, ok := r.ti.attrs[name]
	if !ok {
		if _, isMethod := r.ti.methods[name]; isMethod {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access unexposed or unknown remote attribute '%s'", name)}
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("type object '%s' has no attribute '%s'", typeName(obj), name)}
	}
	v := reflect.ValueOf(obj)
	if call.Method == "__getattr__" {
		if a.getter >= 0 {
			out := v.Method(a.getter).Call(nil)
			if len(out) == 2 && !out[1].IsNil() {
				return nil, out[1].Interface().(error)
			}
			return c.autoproxy(out[0].Interface()), nil
		}
		return reflect.Indirect(v).FieldByIndex(a.field).Interface(), nil
	}
	if len(call.Args) != 2 {
		return nil, &PythonError{Class: "TypeError", Msg: "__setattr__ needs a name and a value"}
	}
	if a.setter >= 0 {
		m := v.Method(a.setter)
		p := reflect.New(m.Type().In(0)).Elem()
		if err := c.d.conv.ConvertValue(p, call.Args[1]); err != nil {
			return nil, prefixArg(err, 2)
		}
		out := m.Call([]reflect.Value{p})
		if len(out) == 1 && out[0].Type() == errType && !out[0].IsNil() {
			return nil, out[0].Interface().(error)
		}
		return nil, nil
	}
	if a.field == nil || v.Kind() != reflect.Pointer {
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("can't set attribute '%s'", name)}
	}
	f := v.Elem().FieldByIndex(a.field)
	p := reflect.New(f.Type()).Elem()
	if err := c.d.conv.ConvertValue(p, call.Args[1]); err != nil {
		return nil, prefixArg(err, 2)
	}
	f.Set(p)
	return nil, nil
}

func (c *serverConn) sendResult(cd codec.Codec, req *wire.Message, cc *CallContext, v any, flags wire.Flags) bool {
	rm := &c.reply
	defer rm.release()
	data, err := cd.AppendMarshalLimit(c.pbuf[:0], v, rm.start(c.maxReply(cc.ResponseAnnotations)))
	if err == nil && cap(data) <= keepScratch {
		c.pbuf = data // keep small buffers for the next reply
	}
	if err != nil {
		rm.release()
		c.sendException(cd, req, c.encodeFailure(err), nil)
		return true
	}
	reply := &wire.Message{Type: wire.MsgResult, Flags: flags, Seq: req.Seq, SerializerID: req.SerializerID, Data: data}
	for k, v := range cc.ResponseAnnotations {
		if len(k) == 4 {
			reply.SetAnnotation(k, v)
		}
	}
	reply.SetAnnotation(wire.AnnCorr, cc.CorrelationID[:])
	if err := c.send(reply); err != nil {
		if errors.Is(err, wire.ErrTooLarge) {
			c.d.log.Warn("pyro: reply exceeds MAX_MESSAGE_SIZE, closing", "peer", c.info.RemoteAddr, "err", err)
		}
		return false
	}
	return true
}

func (c *serverConn) sendException(cd codec.Codec, req *wire.Message, exc *py.Exception, tb []string) {
	if exc.Attributes == nil || exc.Attributes.Len() == 0 {
		if tb == nil {
			tb = simpleTraceback(exc)
		}
		exc.Attributes = py.DictOf("_pyroTraceback", toAnyList(tb))
	}
	rm := &c.reply
	defer rm.release()
	data, err := cd.AppendMarshalLimit(nil, exc, rm.start(c.maxReply(nil)))
	if err != nil {
		rm.release()
		fallback := &py.Exception{Class: ErrPyro.PythonName(), Args: py.Tuple{"Error serializing exception: " + err.Error()}}
		if errors.Is(err, errMemoryBudget) || errors.Is(err, py.ErrTooLarge) {
			fallback = c.encodeFailure(err)
		}
		data, _ = cd.Marshal(fallback)
	}
	_ = c.send(&wire.Message{Type: wire.MsgResult, Flags: wire.FlagException, Seq: req.Seq, SerializerID: req.SerializerID, Data: data})
}

func (c *serverConn) sendStreamStart(cd codec.Codec, req *wire.Message, exc *py.Exception, sid string) bool {
	data, err := cd.Marshal(exc)
	if err != nil {
		return false
	}
	m := &wire.Message{Type: wire.MsgResult, Flags: wire.FlagException | wire.FlagItemStreamResult, Seq: req.Seq, SerializerID: req.SerializerID, Data: data}
	m.SetAnnotation(wire.AnnStream, []byte(sid))
	return c.send(m) == nil
}

// autoproxy replaces registered objects in a result by proxy references.
func (c *serverConn) autoproxy(v any) any {
	if !c.d.cfg.AutoProxy {
		return v
	}
	out, _ := c.autoproxyValue(v)
	return out
}

// autoproxyValue does autoproxy's work and reports whether it replaced
// anything (results may hold uncomparable values such as py.Tuple, so
// "changed" cannot be found by comparing interfaces).
//
// Like Pyro's serializer hook, it finds registered objects at any depth
// of lists, tuples, dict values, and Go slices, arrays and maps whose
// elements may hold pointers (a changed Go slice becomes a list, a
// changed Go map a map[K]any). Struct fields are not searched.
func (c *serverConn) autoproxyValue(v any) (any, bool) {
	return c.autoproxyDepth(v, 0)
}

func (c *serverConn) autoproxyDepth(v any, depth int) (any, bool) {
	if v == nil || depth > py.DefaultMaxDepth {
		return v, false
	}
	switch x := v.(type) {
	case []any:
		return c.autoproxyList(x, depth)
	case py.Tuple:
		if out, changed := c.autoproxyList(x, depth); changed {
			return py.Tuple(out.([]any)), true
		}
		return v, false
	case *py.Dict:
		var out *py.Dict
		for i := 0; i < x.Len(); i++ {
			p, changed := c.autoproxyDepth(x.Value(i), depth+1)
			if changed && out == nil {
				out = py.NewDict(x.Len())
				for j := 0; j < i; j++ {
					_ = out.Set(x.Key(j), x.Value(j))
				}
			}
			if out != nil {
				_ = out.Set(x.Key(i), p)
			}
		}
		if out != nil {
			return out, true
		}
		return v, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.Type().Comparable() {
			return v, false
		}
		c.d.mu.RLock()
		id, ok := c.d.byValue[v]
		c.d.mu.RUnlock()
		if ok {
			return c.d.proxyRef(id), true
		}
	case reflect.Slice, reflect.Array:
		if !mayHoldPointer(rv.Type().Elem(), 0) {
			return v, false
		}
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		if out, changed := c.autoproxyList(l, depth); changed {
			return out, true
		}
	case reflect.Map:
		if !mayHoldPointer(rv.Type().Elem(), 0) {
			return v, false
		}
		changedAny := false
		for it := rv.MapRange(); it.Next() && !changedAny; {
			_, changedAny = c.autoproxyDepth(it.Value().Interface(), depth+1)
		}
		if !changedAny {
			return v, false
		}
		out := reflect.MakeMapWithSize(reflect.MapOf(rv.Type().Key(), reflect.TypeFor[any]()), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			p, _ := c.autoproxyDepth(it.Value().Interface(), depth+1)
			out.SetMapIndex(it.Key(), reflect.ValueOf(&p).Elem())
		}
		return out.Interface(), true
	}
	return v, false
}

// autoproxyList replaces registered objects in a list; it returns a new
// []any only when something changed.
func (c *serverConn) autoproxyList(l []any, depth int) (any, bool) {
	var out []any
	for i, e := range l {
		if p, changed := c.autoproxyDepth(e, depth+1); changed {
			if out == nil {
				out = append([]any(nil), l...)
			}
			out[i] = p
		}
	}
	if out != nil {
		return out, true
	}
	return l, false
}

// mayHoldPointer reports whether values of type t can hold a pointer to a
// registered object where autoproxy looks for one.
func mayHoldPointer(t reflect.Type, depth int) bool {
	if depth > 32 {
		return true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		return true
	case reflect.Slice, reflect.Array, reflect.Map:
		return mayHoldPointer(t.Elem(), depth+1)
	}
	return false
}

func (d *Daemon) proxyRef(id string) *codec.ProxyRef {
	r := d.lookup(id)
	p := &codec.ProxyRef{URI: d.URIFor(id), Handshake: "hello"}
	if r != nil {
		p.Methods, p.Oneway, p.Attrs = r.ti.meta.Methods, r.ti.meta.Oneway, r.ti.meta.Attrs
	}
	return p
}

// value returns the metadata dict: sets, or lists when asLists.
func (m metadata) value(asLists bool) *py.Dict {
	conv := func(names []string) any {
		if asLists {
			l := make([]any, len(names))
			for i, n := range names {
				l[i] = n
			}
			return l
		}
		s := py.NewSet(len(names), false)
		for _, n := range names {
			_ = s.Add(n)
		}
		return s
	}
	d := py.NewDict(3)
	d.SetString("methods", conv(m.Methods))
	d.SetString("oneway", conv(m.Oneway))
	d.SetString("attrs", conv(m.Attrs))
	return d
}
