package pyro

import (
	"context"
	"fmt"

	"github.com/pyrogo/pyro/wire"
)

// Ping sends a PING message on one of the proxy's connections (connecting
// first if needed) and waits for the daemon's "pong": it checks that the
// daemon serves the connection, in either protocol, without running any
// method. Pyro4 and Pyro5 daemons answer PING, as pyrogo's do.
func (p *Proxy) Ping(ctx context.Context) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	broken, err := p.ping(ctx, c)
	p.release(c, broken)
	return err
}

func (p *Proxy) ping(ctx context.Context, c *clientConn) (bool, error) {
	stop := p.deadline(ctx, c)
	defer stop()
	c.seq++
	msg := &wire.Message{Type: wire.MsgPing, Seq: c.seq, SerializerID: wire.PingSerializerID, Data: []byte("ping")}
	if err := c.write(msg, c.opts(p)); err != nil {
		return true, netErr(err, "sending")
	}
	reply, err := wire.ReadMessage(c.br, c.opts(p))
	if err != nil {
		if ctx.Err() != nil {
			return true, ctxError(ctx.Err())
		}
		return true, netErr(err, "receiving")
	}
	if reply.Type != wire.MsgPing || reply.Seq != c.seq {
		return true, NewError(ErrProtocol, fmt.Sprintf("invalid answer to ping: type %d, seq %d (expected %d)", reply.Type, reply.Seq, c.seq))
	}
	return false, nil
}

// Protocol returns the wire protocol the proxy's connections speak: 48
// (Pyro4) or 502 (Pyro5), as fixed by PROTOCOL/WithProtocol or detected
// on the last connection made; 0 in auto mode before the first
// connection.
func (p *Proxy) Protocol() int {
	switch p.mode {
	case mode48:
		return int(wire.Protocol48)
	case mode502:
		return int(wire.Protocol502)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.lastProto)
}
