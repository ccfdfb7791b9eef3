package pyro

import "context"

// Oneway calls: nothing is answered. With ONEWAY_THREADED (the default)
// a oneway method runs in a goroutine of its own, under the limits
// ONEWAY_MAXCONN (per connection) and ONEWAY_MAX (per daemon); a client
// over them waits, none of its calls is dropped.

// runOneway runs a prepared oneway call; its result and error are
// dropped. Attribute access, names that resolve to no method and (as in
// Pyro) batches run inline.
func (dc *dispatcher) runOneway(c *Call, req *request) outcome {
	d := dc.d
	if !d.cfg.OnewayThreaded || c.m == nil {
		dc.onewayCall(d.ctx, c)
		return outcome{silent: true}
	}
	if !dc.acquireOneway() {
		// the connection or the daemon closed meanwhile
		return outcome{silent: true, end: context.Cause(dc.ctx)}
	}
	held := req.held // the arguments live on in the goroutine
	req.held = 0
	oc := *c
	d.wg.Add(1) // the connection's own count keeps the group above zero
	go func() {
		defer d.wg.Done()
		defer dc.releaseOneway()
		defer dc.releaseHeld(held)
		dc.onewayCall(d.ctx, &oc)
	}()
	return outcome{silent: true}
}

// onewayCall runs a oneway call under the daemon's context (a client may
// send one and leave; it runs on until the daemon closes).
func (dc *dispatcher) onewayCall(parent context.Context, c *Call) {
	res, _ := dc.call(parent, c)
	if s, ok := res.(streamSource); ok {
		s.release()
	}
}

// releaseHeld gives back the budget a oneway call's arguments held.
func (dc *dispatcher) releaseHeld(n int) {
	if dc.mem != nil {
		dc.mem.Release(n)
	}
}

// acquireOneway takes a slot for a oneway goroutine of this connection
// and one of the daemon (ONEWAY_MAXCONN, ONEWAY_MAX), waiting while they
// are all taken: the connection is not read meanwhile, so a client that
// sends oneway calls faster than they run is slowed down, and none is
// dropped. False when the connection's context ended while waiting.
func (dc *dispatcher) acquireOneway() bool {
	d := dc.d
	if n := d.lim.onewayConn; n > 0 {
		if dc.oneway == nil {
			dc.oneway = make(chan struct{}, n)
		}
		if !dc.acquire(dc.oneway, "ONEWAY_MAXCONN", n) {
			return false
		}
	}
	if d.oneway != nil && !dc.acquire(d.oneway, "ONEWAY_MAX", d.lim.oneway) {
		if dc.oneway != nil {
			<-dc.oneway
		}
		return false
	}
	return true
}

func (dc *dispatcher) acquire(sem chan struct{}, item string, n int) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	dc.d.log.Debug("pyro: oneway calls at their limit, waiting for one to finish", "peer", dc.conn.RemoteAddr, "limit", item, "value", n)
	select {
	case sem <- struct{}{}:
		return true
	case <-dc.ctx.Done():
		return false
	}
}

// releaseOneway frees the slots taken by acquireOneway.
func (dc *dispatcher) releaseOneway() {
	if dc.d.oneway != nil {
		<-dc.d.oneway
	}
	if dc.oneway != nil {
		<-dc.oneway
	}
}
