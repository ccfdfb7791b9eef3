package pyro

import (
	"context"

	"github.com/pyrogo/pyro/py"
)

// daemonObject is the built-in Pyro.Daemon object of every daemon.
type daemonObject struct{ d *Daemon }

func (o *daemonObject) PyroExpose() Exposure {
	return Exposure{Params: map[string][]string{
		"get_metadata":         {"objectId", "as_lists"},
		"get_next_stream_item": {"streamId"},
		"close_stream":         {"streamId"},
	}}
}

// Ping does nothing; it answers None.
func (o *daemonObject) Ping() {}

// Registered lists the registered object ids.
func (o *daemonObject) Registered() []string { return o.d.Registered() }

// Info describes the daemon.
func (o *daemonObject) Info() string { return o.d.info() }

// GetMetadata returns the metadata of an object: sets, or lists when
// as_lists is true.
func (o *daemonObject) GetMetadata(objectID string, asLists ...bool) (*py.Dict, error) {
	r := o.d.lookup(objectID)
	if r == nil {
		return nil, NewError(ErrDaemon, "unknown object")
	}
	return r.ti.meta.value(len(asLists) > 0 && asLists[0]), nil
}

// stopIteration is Python's StopIteration with no arguments.
type stopIteration struct{}

func (stopIteration) Error() string { return "StopIteration" }
func (stopIteration) Exception() *py.Exception {
	return &py.Exception{Class: "builtins.StopIteration", Args: py.Tuple{}}
}

// GetNextStreamItem returns the next item of a stream; StopIteration at
// the end. A lingering stream (its connection gone) passes to the
// connection that pulls from it, as in Pyro.
func (o *daemonObject) GetNextStreamItem(ctx context.Context, streamID string) (any, error) {
	s := o.d.streams.get(streamID)
	if s == nil {
		return nil, errStreamTerminated
	}
	c, _ := ctx.Value(connCtxKey{}).(*dispatcher)
	o.d.streams.adopt(s, c)
	v, ok, err := s.pull(ctx)
	if err != nil {
		if err == errStreamTerminated {
			o.d.streams.remove(streamID)
		}
		return nil, err
	}
	if !ok {
		o.d.streams.remove(streamID)
		return nil, stopIteration{}
	}
	return v, nil
}

// CloseStream forgets a stream (normally called oneway).
func (o *daemonObject) CloseStream(streamID string) { o.d.streams.remove(streamID) }
