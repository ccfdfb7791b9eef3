package gateway

import (
	"sync"

	"github.com/pyrogo/pyro"
)

// cachedProxy is a proxy shared by the requests for one object URI.
type cachedProxy struct {
	key     string
	p       *pyro.Proxy
	refs    int    // requests using it
	evicted bool   // out of the cache: closed when refs drops to 0
	used    uint64 // the cache's clock at the last get
}

// proxyCache keeps at most max proxies, one per object URI, and closes
// the least recently used one to make room. A proxy in use by a request
// when it is evicted is closed when that request is done.
type proxyCache struct {
	mu    sync.Mutex
	max   int
	clock uint64
	m     map[string]*cachedProxy
}

func (c *proxyCache) init(max int) {
	c.max = max
	c.m = make(map[string]*cachedProxy)
}

// get returns the proxy for u, making it with mk when there is none.
func (c *proxyCache) get(u pyro.URI, mk func() (*pyro.Proxy, error)) (*cachedProxy, error) {
	key := u.String()
	c.mu.Lock()
	c.clock++
	if cp := c.m[key]; cp != nil {
		cp.refs++
		cp.used = c.clock
		c.mu.Unlock()
		return cp, nil
	}
	c.mu.Unlock()
	p, err := mk()
	if err != nil {
		return nil, err
	}
	var toClose []*pyro.Proxy
	c.mu.Lock()
	if cp := c.m[key]; cp != nil { // made meanwhile by another request
		cp.refs++
		cp.used = c.clock
		c.mu.Unlock()
		p.Close()
		return cp, nil
	}
	for len(c.m) >= c.max {
		var old *cachedProxy
		for _, e := range c.m {
			if old == nil || e.used < old.used {
				old = e
			}
		}
		delete(c.m, old.key)
		old.evicted = true
		if old.refs == 0 {
			toClose = append(toClose, old.p)
		}
	}
	cp := &cachedProxy{key: key, p: p, refs: 1, used: c.clock}
	c.m[key] = cp
	c.mu.Unlock()
	for _, p := range toClose {
		p.Close()
	}
	return cp, nil
}

// put releases a proxy got from get.
func (c *proxyCache) put(cp *cachedProxy) {
	c.mu.Lock()
	cp.refs--
	closeIt := cp.evicted && cp.refs == 0
	c.mu.Unlock()
	if closeIt {
		cp.p.Close()
	}
}

// len returns the number of cached proxies.
func (c *proxyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// closeAll empties the cache; proxies in use close when released.
func (c *proxyCache) closeAll() {
	c.mu.Lock()
	var toClose []*pyro.Proxy
	for k, e := range c.m {
		delete(c.m, k)
		e.evicted = true
		if e.refs == 0 {
			toClose = append(toClose, e.p)
		}
	}
	c.mu.Unlock()
	for _, p := range toClose {
		p.Close()
	}
}
