package pyro

import (
	"context"
	"errors"

	"github.com/pyrogo/pyro/codec"
)

// RawReply receives the payload of a call's RESULT message as the server
// serialized it (see WithRawReply). A gateway uses it to hand a JSON
// result to its HTTP client byte for byte, as Pyro4's HTTP gateway does
// with _pyroRawWireResponse.
type RawReply struct {
	// Data is the RESULT message's payload (after decompression), in the
	// serializer SerializerID of protocol Protocol (48 or 502). It is nil
	// when the call got no reply (a oneway call) or failed before one
	// arrived.
	Data []byte
	// SerializerID is the reply header's serializer id.
	SerializerID int
	// Protocol is the wire protocol of the connection (48 or 502).
	Protocol int
	// Exception is set when the reply carries a remote exception
	// (FLAGS_EXCEPTION); the call also returns it as a *RemoteError.
	Exception bool
}

// callExtras are per-call settings carried by a context (one key, so a
// call looks up one context value whatever it carries).
type callExtras struct {
	corr    []byte    // 16 bytes, or nil
	raw     *RawReply // filled with the reply's payload, or nil
	rawOnly bool      // raw is all the caller wants: the payload is not decoded
	hasCorr bool
}

type callExtrasKey struct{}

func extrasFrom(ctx context.Context) *callExtras {
	x, _ := ctx.Value(callExtrasKey{}).(*callExtras)
	return x
}

func withExtras(ctx context.Context, f func(x *callExtras)) context.Context {
	var x callExtras
	if old := extrasFrom(ctx); old != nil {
		x = *old
	}
	f(&x)
	return context.WithValue(ctx, callExtrasKey{}, &x)
}

// WithCorrelationID returns a context whose proxy calls carry id as
// their correlation id: the CORR annotation in protocol 48, the header's
// correlation id in 502, as Pyro's current_context.correlation_id does.
// A daemon hands it to the method (CallContext.CorrelationID) and to its
// log. Without it a call sends none, as a Python client does unless the
// application sets one.
func WithCorrelationID(ctx context.Context, id [16]byte) context.Context {
	return withExtras(ctx, func(x *callExtras) { x.corr, x.hasCorr = id[:], true })
}

// WithRawReply returns a context whose proxy calls store the payload of
// their RESULT message in dst (the call still decodes it and returns the
// result or the *RemoteError as usual). dst is overwritten by every call
// made with the context, so use one context per call. Metadata and
// handshake exchanges do not touch it.
func WithRawReply(ctx context.Context, dst *RawReply) context.Context {
	return withExtras(ctx, func(x *callExtras) { x.raw = dst })
}

// WithRawReplyOnly is WithRawReply for a caller that wants only the
// payload, as Pyro4's proxy._pyroRawWireResponse: the reply is not
// decoded, so a large or deeply nested result costs its bytes and no
// more. A call that got a result returns nil and no error; one that got
// an exception returns an error matching ErrRawException (dst.Exception
// is set, dst.Data holds the serialized exception) and does not reuse its
// connection, since an undecoded exception may be the SecurityError after
// which a daemon closes it. Streamed results are decoded as usual.
func WithRawReplyOnly(ctx context.Context, dst *RawReply) context.Context {
	return withExtras(ctx, func(x *callExtras) { x.raw, x.rawOnly = dst, true })
}

// ErrRawException is the error of a call made with WithRawReplyOnly that
// got a remote exception, which was not decoded (see RawReply).
var ErrRawException = errors.New("pyro: the call raised a remote exception (not decoded: see RawReply)")

// OnewayKw invokes a method with positional and keyword arguments
// without waiting for (or getting) a reply, whatever the metadata says
// (Pyro4's proxy._pyroOneway.add(method) followed by a call with
// keywords). kwargs is what CallKwT takes: nil, a map with string keys,
// a *py.Dict with str keys (sent in its order) or an argument struct.
func (p *Proxy) OnewayKw(ctx context.Context, method string, args []any, kwargs any) error {
	kw, err := kwargsDict(kwargs)
	if err != nil {
		return err
	}
	_, err = p.invoke(ctx, &codec.Call{Method: method, Args: args, Kwargs: kw}, callOptions{oneway: true})
	return err
}
