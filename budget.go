package pyro

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// A daemon's memory for messages.
//
// Every byte a connection holds for a message is charged to one
// daemon-wide budget (MEMORY_BUDGET) before it is allocated: the body of
// a request while it is read, decoded and handled (wire.Options.Budget
// charges it chunk by chunk as it arrives or inflates; after decoding
// the charge stands for the decoded arguments), and the encoded reply
// from the moment the encoder grows it until it is written. A charge that
// does not fit is refused at once, never waited for:
//
//   - a request that does not fit is dropped with its connection, as Pyro
//     drops a message over MAX_MESSAGE_SIZE (it is half read, so nothing
//     can be answered on that connection);
//   - a reply that does not fit is replaced by a small builtins.MemoryError
//     exception (which a Python client rebuilds) and the connection stays.
//
// A quarter of the budget is kept for connections holding little (at
// most smallHolding bytes): when clients with large messages use up the
// rest, ordinary calls are still served.
//
// A reply write may go WRITE_TIMEOUT seconds without progress (COMMTIMEOUT
// when that is shorter), also when COMMTIMEOUT is 0; large replies are
// written in chunks and the deadline is renewed after every chunk that
// made progress, so a slow reader is served and a client that never reads
// is dropped, releasing what its reply held.

// Defaults of the memory items of Config (BuiltinConfig).
const (
	// DefaultMaxMessageSize is MAX_MESSAGE_SIZE: 64 MiB, where Pyro4 has
	// no limit (Pyro5 has 1 GiB). Payloads larger than this are rarely a
	// good idea over Pyro; raise it for applications that need them.
	DefaultMaxMessageSize = 64 << 20
	// DefaultMemoryBudget is MEMORY_BUDGET: 256 MiB, room for a few
	// messages of the largest default size at once while a daemon stays
	// well under 1 GiB resident under attack.
	DefaultMemoryBudget = 256 << 20
	// DefaultWriteTimeout is WRITE_TIMEOUT: a client that reads nothing
	// of its reply for 30 s is dropped.
	DefaultWriteTimeout = 30 * time.Second
)

// smallHolding is what a connection may hold and still use the quarter of
// the budget kept for small messages: a call and a reply of up to 64 KiB
// each, with room to spare.
const smallHolding = 256 << 10

// keepScratch is the largest payload or write buffer a connection keeps
// for its next message; larger ones are dropped after use, so that idle
// connections do not pin memory.
const keepScratch = 64 << 10

// writeChunk is the most written under one write deadline.
const writeChunk = 256 << 10

// memBudget is a daemon's budget of bytes held for messages.
type memBudget struct {
	limit   int64 // 0: no limit
	reserve int64 // only for connections holding at most smallHolding
	used    atomic.Int64
}

// newMemBudget makes the budget of MEMORY_BUDGET: 0 means the default,
// a negative value no limit.
func newMemBudget(limit int) *memBudget {
	if limit == 0 {
		limit = DefaultMemoryBudget
	}
	if limit < 0 {
		return &memBudget{}
	}
	return &memBudget{limit: int64(limit), reserve: int64(limit) / 4}
}

// tryAcquire takes n bytes if they fit; small holders may use the
// reserve.
func (b *memBudget) tryAcquire(n int64, small bool) bool {
	if b.limit == 0 {
		return true
	}
	lim := b.limit
	if !small {
		lim -= b.reserve
	}
	for {
		u := b.used.Load()
		if u+n > lim {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *memBudget) release(n int64) {
	if b.limit != 0 {
		b.used.Add(-n)
	}
}

// errMemoryBudget is matched by the error of a charge the budget refused.
var errMemoryBudget = errors.New("pyro: daemon memory budget exhausted")

// budgetError is a refused charge.
type budgetError struct {
	need, used, limit int64
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("daemon memory budget exhausted: %d more bytes needed, %d of %d in use; try again later", e.need, e.used, e.limit)
}

func (e *budgetError) Is(target error) bool { return target == errMemoryBudget }

// Exception is the exception a client gets for a reply that did not
// fit: Python's MemoryError, which every Python client can rebuild.
func (e *budgetError) Exception() *py.Exception {
	return &py.Exception{Class: "builtins.MemoryError", Args: py.Tuple{e.Error()}}
}

// connMem is one connection's share of the budget. It implements
// wire.Budget for the connection's reads; a oneway call running on after
// its request was handled releases its own part.
type connMem struct {
	b    *memBudget
	held atomic.Int64
}

// Acquire charges n bytes (wire.Budget).
func (m *connMem) Acquire(n int) error {
	h := m.held.Add(int64(n))
	if m.b.tryAcquire(int64(n), h <= smallHolding) {
		return nil
	}
	m.held.Add(-int64(n))
	return &budgetError{need: int64(n), used: m.b.used.Load(), limit: m.b.limit}
}

// Release gives back n bytes (wire.Budget).
func (m *connMem) Release(n int) {
	if n > 0 {
		m.held.Add(-int64(n))
		m.b.release(int64(n))
	}
}

// replyMem charges an encoded reply as it grows (a py.SizeLimit.Grow)
// and bounds it by MAX_MESSAGE_SIZE. A connection has one, reused for
// each reply (replies are encoded one at a time, by the connection's
// goroutine), so that encoding allocates nothing for it.
type replyMem struct {
	m       *connMem
	max     int // MAX_MESSAGE_SIZE, or the protocol's limit
	granted int
	lim     py.SizeLimit
	grow    func(int) (int, error) // r.charge, bound once
}

// start begins a reply of at most max bytes and returns its size limit;
// release ends it.
func (r *replyMem) start(max int) *py.SizeLimit {
	if r.grow == nil {
		r.grow = r.charge
	}
	r.release()
	r.max = max
	r.lim = py.SizeLimit{Grow: r.grow}
	return &r.lim
}

// charge grants room for need bytes, doubling the grant (so a reply is
// copied a few times at most) within MAX_MESSAGE_SIZE and the budget.
func (r *replyMem) charge(need int) (int, error) {
	if need > r.max {
		return 0, &py.SizeError{Format: "reply", Max: r.max}
	}
	grant := min(r.max, max(need, 2*r.granted, 4096))
	if err := r.m.Acquire(grant - r.granted); err != nil {
		if grant == need || r.m.Acquire(need-r.granted) != nil {
			return 0, err
		}
		grant = need
	}
	r.granted = grant
	return grant, nil
}

// release gives back what the reply held.
func (r *replyMem) release() {
	r.m.Release(r.granted)
	r.granted = 0
}

// maxReply is the largest payload a reply with the given application
// annotations may have: MAX_MESSAGE_SIZE (or the protocol's limit) less
// the annotations, CORR and the largest MAC.
func (c *serverConn) maxReply(anns map[string][]byte) int {
	n := c.d.cfg.MaxMessageSize
	if n <= 0 {
		return wire.MaxPayload
	}
	n -= 6 + 16 + 6 + 32
	for k, v := range anns {
		if len(k) == 4 {
			n -= 6 + len(v)
		}
	}
	return max(n, 0)
}

// encodeFailure is the exception sent instead of a reply whose encoding
// failed: MemoryError when the budget refused it, MessageTooLargeError
// when it passed MAX_MESSAGE_SIZE, SerializeError otherwise.
func (c *serverConn) encodeFailure(err error) *py.Exception {
	var be *budgetError
	if errors.As(err, &be) {
		c.d.log.Warn("pyro: reply refused, memory budget exhausted", "peer", c.info.RemoteAddr, "err", err)
		return be.Exception()
	}
	var se *py.SizeError
	if errors.As(err, &se) {
		max := se.Max
		c.d.log.Info("pyro: reply exceeds MAX_MESSAGE_SIZE", "peer", c.info.RemoteAddr, "max", max)
		return NewError(ErrMessageTooLarge, fmt.Sprintf("max message size exceeded (reply of more than %d bytes where max=%d)", max, max)).Exception()
	}
	return wrapError(ErrSerialize, err.Error(), err).Exception()
}

// writeTimeout is how long a write may go without progress: WRITE_TIMEOUT
// (0: the default, negative: none) or COMMTIMEOUT when that is shorter.
func (d *Daemon) writeTimeout() time.Duration {
	wt := d.cfg.WriteTimeout
	switch {
	case wt == 0:
		wt = DefaultWriteTimeout
	case wt < 0:
		wt = 0
	}
	if ct := d.cfg.CommTimeout; ct > 0 && (wt <= 0 || ct < wt) {
		wt = ct
	}
	return wt
}

// sendWithin writes m, each chunk within timeout of the previous chunk's
// progress (0: no deadline). A payload to compress is charged to the
// budget first (its compressed form is at most as large); when it does not
// fit, it is sent uncompressed.
func (c *serverConn) sendWithin(m *wire.Message, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.p5 {
		c.stamp(m)
	}
	o := c.wopts
	if o.Compress && len(m.Data) >= wire.CompressThreshold && m.Type != wire.MsgPing && m.Type != wire.MsgConnectFail {
		if err := c.mem.Acquire(len(m.Data)); err != nil {
			plain := *o
			plain.Compress = false
			o = &plain
		} else {
			defer c.mem.Release(len(m.Data))
		}
	}
	head, payload, err := wire.AppendFrame(c.wbuf[:0], m, o)
	if err != nil {
		return err
	}
	if len(head)+len(payload) <= keepScratch {
		c.wbuf = append(head, payload...)
		b := c.wbuf
		n := c.tw.try(b)
		c.countTry(n)
		if n < len(b) {
			// the socket did not take it all at once: wait, with a deadline
			err = c.writeParts(b[n:], nil, timeout)
		}
	} else {
		err = c.writeParts(head, payload, timeout)
	}
	if cap(c.wbuf) > keepScratch {
		c.wbuf = nil // don't pin a large buffer to an idle connection
	}
	return err
}

// writeParts writes head then payload (one writev where the connection
// has it), at most writeChunk bytes under one deadline, and renews the
// deadline after every write that made progress.
func (c *serverConn) writeParts(head, payload []byte, timeout time.Duration) error {
	for len(head)+len(payload) > 0 {
		if timeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(timeout))
		} else {
			c.nc.SetWriteDeadline(time.Time{})
		}
		var n int
		var err error
		if len(head) > 0 && len(payload) == 0 && len(head) <= writeChunk {
			n, err = c.nc.Write(head) // the common case: one small message
		} else {
			h := head[:min(len(head), writeChunk)]
			p := payload[:min(len(payload), writeChunk-len(h))]
			bufs := net.Buffers{h, p}
			var k int64
			k, err = bufs.WriteTo(c.nc)
			n = int(k)
		}
		hn := min(n, len(head))
		head, payload = head[hn:], payload[n-hn:]
		if err != nil {
			if n > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				continue // progress: the rest gets a new deadline
			}
			return err
		}
	}
	return nil
}

// chargeReads makes the connection's reads charge its budget share.
func (c *serverConn) chargeReads() {
	if c.d.mem.limit == 0 {
		return
	}
	o := *c.wopts
	o.Budget = &c.mem
	c.wopts = &o
}

// chargeDecode charges the budget for the decoding of a large payload of
// n bytes: while the arguments are built the payload and the arguments
// both exist (afterwards the payload's own charge stands for the
// arguments). It returns what to release once decoding is done.
func (c *serverConn) chargeDecode(n int) (int, error) {
	if n <= keepScratch || c.d.mem.limit == 0 {
		return 0, nil
	}
	if err := c.mem.Acquire(n); err != nil {
		return 0, err
	}
	return n, nil
}
