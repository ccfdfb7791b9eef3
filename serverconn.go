package pyro

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The connection loop of a daemon: one goroutine per client connection
// runs the handshake phase (handshake.go), then reads requests, hands
// each INVOKE to the connection's dispatcher (dispatch.go) and sends
// what it answers. Every step returns an error; the reason the
// connection ended is logged once, by serve (logEnd).

type serverConn struct {
	d       *Daemon
	nc      net.Conn
	br      *bufio.Reader
	wbuf    []byte
	pbuf    []byte // payload scratch, reused per reply
	info    ConnInfo
	calls   dispatcher    // runs this connection's calls (dispatch.go)
	release func()        // from the connection validators, called when the connection ends
	wopts   *wire.Options // the daemon's, or this connection's own for a bound HMAC or a budget
	mem     connMem       // this connection's share of the daemon's memory budget (budget.go)
	reply   replyMem      // the charge of the reply being encoded and sent
	tw      *tryWriter    // writes that need no deadline (trywrite_*.go)
	cnt     *countingConn // counts the socket's bytes for the daemon's Observer; nil without one

	// ctx is the connection's context, a child of the daemon's (Serve's);
	// it ends when the client disconnects during a call (ErrClientGone),
	// when the connection is evicted or closed, or when the daemon closes.
	ctx    context.Context
	cancel context.CancelCauseFunc

	wmu    sync.Mutex // serialises writes (oneway goroutines never write)
	closed atomic.Bool

	// guarded by d.connMu (connstate.go)
	state     connState
	idleSince time.Time
	idleLink  fifoLink[serverConn] // in the daemon's idle list
	refusing  bool                 // over CONNECTION_CAP: refused with a CONNECTFAIL

	refusal   error         // set before serve: refuse the connection with this reason
	endLogged bool          // why the connection ends is in the log already (logEnd)
	peerGone  atomic.Bool   // a read during a call found the client gone
	rr        requestReader // reads the current request (readRequest)
	rdl       time.Time     // the read deadline set on nc (serving goroutine only)

	// the connection's protocol (serverproto.go): p5 for 502, decided by
	// the first message once sniffed; corr is the correlation id of the
	// 502 request being answered
	p5, sniffed bool
	corr        []byte
}

// connCtxKey is the context key of the *dispatcher of the connection
// serving a call.
type connCtxKey struct{}

func (d *Daemon) newConn(nc net.Conn) *serverConn {
	c := &serverConn{d: d, nc: nc, br: bufio.NewReaderSize(nc, 8192), wopts: &d.wireOpts, mem: connMem{b: d.mem},
		info: ConnInfo{RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr(), Protocol: int(wire.Protocol48), conn: nc}}
	c.ctx, c.cancel = context.WithCancelCause(context.WithValue(d.ctx, connCtxKey{}, &c.calls))
	c.calls = dispatcher{d: d, ctx: c.ctx, conn: &c.info, watch: c.watchPeer, mem: &c.mem}
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
// closes it; then it logs why the connection ended.
func (c *serverConn) serve() {
	obs := c.d.obs
	established := false
	if obs != nil {
		obs.ConnOpened(&c.info)
	}
	defer func() {
		c.cancel(errConnEnded)
		c.close()
		if c.release != nil {
			c.release()
		}
		c.d.removeConn(c)
		if obs != nil {
			obs.ConnClosed(&c.info, c.connStats(established))
		}
	}()
	err := c.handshake()
	if err != nil {
		if obs != nil {
			if r := refusalReason(err); r != "" {
				obs.ConnRefused(&c.info, r)
			}
		}
		c.logEnd(err, false)
		return
	}
	established = true
	c.chargeReads()
	c.d.log.Info("pyro: client connected", "peer", c.info.RemoteAddr, "identity", c.info.Identity)
	c.logEnd(c.requests(), true)
}

// requests serves requests until the connection ends, and returns why.
func (c *serverConn) requests() error {
	wireLog := wireLogging(c.d.cfg, c.d.log)
	for {
		if c.peerGone.Load() {
			return ErrClientGone
		}
		if !c.d.setIdle(c) {
			return c.closedByDaemon()
		}
		if err := c.awaitRequest(); err != nil {
			return err
		}
		if testHookBeforeActive != nil {
			testHookBeforeActive()
		}
		if !c.d.setActive(c) {
			return c.closedByDaemon()
		}
		msg, err := c.readRequest()
		if err != nil {
			var pe *wire.ProtocolError
			if errors.As(err, &pe) && pe.BadVersion {
				return c.badVersion(pe)
			}
			return c.readFailed(err, "request")
		}
		if wireLog {
			c.d.logWire("daemon wiredata received", msg)
		}
		if testHookRequestRead != nil {
			testHookRequestRead()
		}
		held := msg.Held()
		err = c.handle(msg, &held)
		c.mem.Release(held)
		if err != nil {
			return err
		}
	}
}

// closedByDaemon is why a connection that the daemon closed ended.
func (c *serverConn) closedByDaemon() error {
	if err := context.Cause(c.ctx); err != nil {
		return err
	}
	return ErrDaemonClosed
}

// awaitRequest waits for the first byte of the next request, at most the
// idle timeout.
func (c *serverConn) awaitRequest() error {
	var deadline time.Time
	if t := c.d.lim.idle; t > 0 {
		deadline = time.Now().Add(t)
	}
	c.setReadDeadline(deadline)
	if _, err := c.br.Peek(1); err != nil {
		return c.readFailed(err, "idle")
	}
	return nil
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
	hl := wire.HeaderSize
	if c.p5 {
		hl = wire.HeaderSize502
	}
	if n < hl {
		return false
	}
	hb, _ := c.br.Peek(hl)
	var hd wire.Header
	var err error
	if c.p5 {
		hd, err = wire.ParseHeader502(hb)
	} else {
		hd, err = wire.ParseHeader(hb)
	}
	return err == nil && n >= hd.FrameSize()
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

// handle serves one request: a PING is answered here, an INVOKE is
// decoded, dispatched (dispatch.go) and answered. *held is the budget the
// request holds; a oneway call that runs on in a goroutine takes it over
// (sets it to 0). A non-nil error ends the connection.
func (c *serverConn) handle(msg *wire.Message, held *int) error {
	d := c.d
	if c.p5 {
		c.corr = corrOf(msg)
	}
	switch msg.Type {
	case wire.MsgPing:
		reply := &wire.Message{Type: wire.MsgPing, Seq: msg.Seq, SerializerID: msg.SerializerID, Data: []byte("pong")}
		c.setCorr(reply, corrOf(msg))
		if err := c.send(reply); err != nil {
			return c.writeFailed(err)
		}
		return nil
	case wire.MsgInvoke:
	default:
		// a second CONNECT or anything else: Pyro closes without a reply
		return &connEnd{level: slog.LevelInfo, msg: "pyro: unexpected message, closing", attrs: []any{"type", msg.Type.String()}}
	}
	id := int(msg.SerializerID)
	oneway := msg.Flags&wire.FlagOneway != 0
	cd, accepted := c.codecFor(id)
	if !accepted {
		if cd != nil && !oneway {
			c.sendException(cd, msg, NewError(ErrSerialize, "message used serializer that is not accepted: "+strconv.Itoa(id)).Exception(), nil)
		}
		return &connEnd{level: slog.LevelInfo, msg: "pyro: request with serializer not accepted", attrs: []any{"serializer", id}}
	}
	var call *codec.Call
	var err error
	if msg.Flags&wire.FlagKeepSerialized != 0 {
		// a serialized blob (blob.go): the body stays as it is, and its
		// budget charge stands for the blob
		call, err = blobCall(msg, cd, msg.Data)
		msg.Data = nil
		if err != nil {
			if !oneway {
				exc, _ := d.exception(err)
				c.sendException(cd, msg, exc, nil)
			}
			return nil
		}
	} else {
		var decoding int
		if decoding, err = c.chargeDecode(len(msg.Data)); err != nil {
			if !oneway {
				c.sendException(cd, msg, c.encodeFailure(err), nil)
			}
			return nil
		}
		call, err = cd.UnmarshalCall(msg.Data)
		msg.Data = nil // decoded: its budget charge now stands for the arguments
		c.mem.Release(decoding)
	}
	if err != nil {
		if !oneway {
			exc := wrapError(ErrSerialize, "cannot decode call: "+err.Error(), err).Exception()
			var ske *pymsgpack.StrictKeyError
			if errors.As(err, &ske) {
				exc = ske.Exception() // Pyro5's daemon: msgpack's ValueError
			}
			c.sendException(cd, msg, exc, nil)
		}
		return nil
	}
	if d.log.Enabled(context.Background(), slog.LevelDebug) {
		d.log.Debug("pyro: call", "peer", c.info.RemoteAddr, "object", call.Object, "method", call.Method,
			"oneway", oneway, "batch", msg.Flags&wire.FlagBatch != 0)
	}
	req := request{call: call, oneway: oneway, batch: msg.Flags&wire.FlagBatch != 0, held: *held,
		cc: &CallContext{Conn: &c.info, Seq: msg.Seq, Flags: uint16(msg.Flags), SerializerID: id}}
	copy(req.cc.CorrelationID[:], corrOf(msg))
	if len(msg.Annotations) > 0 {
		req.cc.Annotations = make(map[string][]byte, len(msg.Annotations))
		for _, a := range msg.Annotations {
			req.cc.Annotations[a.Key] = a.Value
		}
	}
	out := c.calls.dispatch(&req)
	*held = req.held
	return c.answer(cd, msg, req.cc, &out)
}

// answer sends what dispatch decided for a request, and returns the
// error that ends the connection, if any.
func (c *serverConn) answer(cd codec.Codec, msg *wire.Message, cc *CallContext, out *outcome) error {
	switch {
	case out.silent:
	case out.err != nil:
		exc, tb := c.d.exception(out.err)
		c.sendException(cd, msg, exc, tb)
	case out.streamID != "":
		exc := &py.Exception{Class: ErrProtocol.PythonName(), Args: py.Tuple{"result of call is an iterator"}, Attributes: py.DictOf("_pyroTraceback", nil)}
		if err := c.sendStreamStart(cd, msg, exc, out.streamID); err != nil {
			return c.writeFailed(err)
		}
	default:
		var flags wire.Flags
		if out.batch {
			flags = wire.FlagBatch
		}
		if err := c.sendResult(cd, msg, cc, out.value, flags); err != nil {
			return err
		}
	}
	return out.end
}

// send writes m under the daemon's write deadline (budget.go).
func (c *serverConn) send(m *wire.Message) error {
	if wireLogging(c.d.cfg, c.d.log) {
		c.d.logWire("daemon wiredata sending", m)
	}
	return c.sendWithin(m, c.d.writeTimeout())
}

// corrOf returns the correlation id of a request (502: the header's; 48:
// the CORR annotation's), or a fresh one when it has none.
func corrOf(m *wire.Message) []byte {
	if len(m.CorrID) == wire.CorrIDSize {
		return m.CorrID
	}
	u := newUUID4()
	return u[:]
}

// sendResult sends a call's result; an error ends the connection.
func (c *serverConn) sendResult(cd codec.Codec, req *wire.Message, cc *CallContext, v any, flags wire.Flags) error {
	rm := &c.reply
	defer rm.release()
	data, err := cd.AppendMarshalLimit(c.pbuf[:0], v, rm.start(c.maxReply(cc.ResponseAnnotations)))
	if err == nil && cap(data) <= keepScratch {
		c.pbuf = data // keep small buffers for the next reply
	}
	if err != nil {
		rm.release()
		c.sendException(cd, req, c.encodeFailure(err), nil)
		return nil
	}
	reply := &wire.Message{Type: wire.MsgResult, Flags: flags, Seq: req.Seq, SerializerID: req.SerializerID, Data: data}
	for k, v := range cc.ResponseAnnotations {
		if len(k) == 4 {
			reply.SetAnnotation(k, v)
		}
	}
	c.setCorr(reply, cc.CorrelationID[:])
	if err := c.send(reply); err != nil {
		if errors.Is(err, wire.ErrTooLarge) {
			return &connEnd{level: slog.LevelWarn, msg: "pyro: reply exceeds MAX_MESSAGE_SIZE, closing", attrs: []any{"err", err}, err: err}
		}
		return c.writeFailed(err)
	}
	return nil
}

// sendException sends an exception reply under the daemon's write
// deadline. A failed write is not reported: the next read finds the
// connection broken.
func (c *serverConn) sendException(cd codec.Codec, req *wire.Message, exc *py.Exception, tb []string) {
	_ = c.sendExceptionWithin(cd, req, exc, tb, c.d.writeTimeout())
}

func (c *serverConn) sendExceptionWithin(cd codec.Codec, req *wire.Message, exc *py.Exception, tb []string, timeout time.Duration) error {
	if exc.Attributes == nil || exc.Attributes.Len() == 0 {
		if tb == nil {
			tb = simpleTracebackFor(exc, c.info.Protocol)
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
	m := &wire.Message{Type: wire.MsgResult, Flags: wire.FlagException, Seq: req.Seq, SerializerID: req.SerializerID, Data: data}
	if wireLogging(c.d.cfg, c.d.log) {
		c.d.logWire("daemon wiredata sending", m)
	}
	return c.sendWithin(m, timeout)
}

func (c *serverConn) sendStreamStart(cd codec.Codec, req *wire.Message, exc *py.Exception, sid string) error {
	data, err := cd.Marshal(exc)
	if err != nil {
		return err
	}
	m := &wire.Message{Type: wire.MsgResult, Flags: wire.FlagException | wire.FlagItemStreamResult, Seq: req.Seq, SerializerID: req.SerializerID, Data: data}
	m.SetAnnotation(wire.AnnStream, []byte(sid))
	return c.send(m)
}

// connEnd is why a connection ends, with the line that says so in the
// log: the loop logs it once, with the peer's address first.
type connEnd struct {
	level slog.Level
	msg   string // the log message
	attrs []any  // after "peer"
	err   error  // the cause, if any
	// refusal is why the daemon refused the connection in its handshake
	// phase, for the Observer ("" when it did not refuse it)
	refusal RefusalReason
}

// refusalReason is the reason of a handshake phase's refusal, "" when err
// is not one.
func refusalReason(err error) RefusalReason {
	if e, ok := err.(*connEnd); ok {
		return e.refusal
	}
	return ""
}

func (e *connEnd) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *connEnd) Unwrap() error { return e.err }

// readFailed says why reading from a client failed: it left, stayed idle
// too long, was too slow with a request, or sent what cannot be read
// (phase is "idle" while waiting for a request).
func (c *serverConn) readFailed(err error, phase string) error {
	if c.left(err) {
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && phase == "idle":
		return &connEnd{level: slog.LevelInfo, msg: "pyro: closing idle connection", attrs: []any{"idle_timeout", c.d.lim.idle}, err: err}
	case errors.As(err, &ne) && ne.Timeout():
		return &connEnd{level: slog.LevelInfo, msg: "pyro: dropping slow client: request not received in time",
			attrs: []any{"request_timeout", c.d.lim.request, "min_rate", c.d.lim.minRate}, err: err}
	case errors.Is(err, errMemoryBudget):
		return &connEnd{level: slog.LevelWarn, msg: "pyro: request refused, memory budget exhausted; dropping client", attrs: []any{"err", err}, err: err}
	}
	return &connEnd{level: slog.LevelInfo, msg: "pyro: dropping client", attrs: []any{"err", err}, err: err}
}

// writeFailed says why writing to a client failed: it left, or did not
// read its reply in time.
func (c *serverConn) writeFailed(err error) error {
	var ne net.Error
	switch {
	case c.left(err) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET):
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return &connEnd{level: slog.LevelInfo, msg: "pyro: dropping client: it does not read its reply",
			attrs: []any{"write_timeout", c.d.writeTimeout()}, err: err}
	}
	return &connEnd{level: slog.LevelInfo, msg: "pyro: dropping client: reply not sent", attrs: []any{"err", err}, err: err}
}

// left reports whether err only says that the client left or that the
// daemon closed the connection.
func (c *serverConn) left(err error) bool {
	return c.ctx.Err() != nil || errors.Is(err, io.EOF) || errors.Is(err, wire.ErrClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, ErrClientGone) || errors.Is(err, ErrDaemonClosed) || errors.Is(err, errEvicted)
}

// logEnd logs, once, why a connection ended: a client that leaves after
// its handshake is "client disconnected" at info level; refusals, limits
// and failures have lines of their own (connEnd); a client that leaves
// or times out during the handshake, a debug line.
func (c *serverConn) logEnd(err error, established bool) {
	if c.endLogged {
		return
	}
	c.endLogged = true
	var e *connEnd
	switch {
	case errors.As(err, &e):
		if c.d.log.Enabled(context.Background(), e.level) {
			c.d.log.Log(context.Background(), e.level, e.msg, append([]any{"peer", c.info.RemoteAddr}, e.attrs...)...)
		}
	case established && c.left(err):
		c.d.log.Info("pyro: client disconnected", "peer", c.info.RemoteAddr)
	case established:
		c.d.log.Info("pyro: dropping client", "peer", c.info.RemoteAddr, "err", err)
	default:
		c.d.log.Debug("pyro: handshake not completed", "peer", c.info.RemoteAddr, "err", err)
	}
}
