package codec

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/py"
)

// serializer is one row of Pyro's serializer table (protocol §3.1).
type serializer struct {
	id   int
	name string
	// coders makes the value coders of a serializer pyrogo supports; it
	// is nil for one it refuses.
	coders func(lim py.Limits, d *dialect) coders
}

// serializers are all the serializers Pyro4 defines.
var serializers = []serializer{
	{IDSerpent, "serpent", serpentCoders},
	{IDJSON, "json", jsonCoders},
	{IDMarshal, "marshal", marshalCoders},
	{IDPickle, "pickle", nil},
	{IDDill, "dill", nil},
	{IDMsgpack, "msgpack", msgpackCoders},
	{IDCloudpickle, "cloudpickle", nil},
}

// serializers5 are the serializers Pyro5 defines (Pyro5/serializers.py):
// the same four data-only formats under other ids. Pyro5 has no pickle,
// dill or cloudpickle, so their Pyro4 ids and names are unknown to it.
var serializers5 = []serializer{
	{ID5Serpent, "serpent", serpentCoders},
	{ID5Marshal, "marshal", marshalCoders},
	{ID5JSON, "json", jsonCoders},
	{ID5Msgpack, "msgpack", msgpackCoders},
}

// ErrRefused is matched (errors.Is) by the error for a serializer that
// pyrogo refuses to decode (pickle, dill, cloudpickle).
var ErrRefused = errors.New("serializer refused")

// ErrUnknown is matched by the error for a serializer id or name that Pyro
// does not define.
var ErrUnknown = errors.New("unknown serializer")

// SerializerError explains why no codec is available for an id or name.
type SerializerError struct {
	ID     int    // the id asked for, or -1 when asked by name
	Name   string // the name, when known
	Reason string
	err    error // ErrRefused or ErrUnknown
}

func (e *SerializerError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("serializer %q %s", e.Name, e.Reason)
	}
	if e.Name != "" {
		return fmt.Sprintf("serializer %q (id %d) %s", e.Name, e.ID, e.Reason)
	}
	return fmt.Sprintf("serializer id %d %s", e.ID, e.Reason)
}

// Unwrap returns ErrRefused or ErrUnknown.
func (e *SerializerError) Unwrap() error { return e.err }

const codeExecution = "is refused: decoding it can execute arbitrary code chosen by the sender, so pyrogo has no decoder for it"

// NameOf returns Pyro4's name for a serializer id, or "" for an unknown
// id (Pyro5.NameOf for Pyro5's ids).
func NameOf(id int) string { return Pyro4.NameOf(id) }

// IDOf returns Pyro4's serializer id for a serializer name (Pyro5.IDOf for
// Pyro5's ids).
func IDOf(name string) (int, bool) { return Pyro4.IDOf(name) }

// ForID returns the codec for a serializer id of opts.Protocol (Pyro4's
// ids unless it says Pyro5). Pickle, dill and cloudpickle are refused
// (ErrRefused), other unknown ids too (ErrUnknown).
func ForID(id int, opts Options) (Codec, error) {
	p := opts.Protocol
	if !p.Valid() {
		return nil, &SerializerError{ID: id, Reason: "is asked for under unknown " + p.String(), err: ErrUnknown}
	}
	s, ok := p.serializerByID(id)
	if !ok {
		return nil, &SerializerError{ID: id, Reason: "is not a " + p.String() + " serializer", err: ErrUnknown}
	}
	if s.coders == nil {
		return nil, &SerializerError{ID: id, Name: s.name, Reason: codeExecution, err: ErrRefused}
	}
	return &pyroCodec{id: s.id, name: s.name, protocol: p, coders: s.coders(opts.Limits.Resolved(), dialectOf(p))}, nil
}

// ForName returns the codec for a serializer name ("serpent", "json",
// "marshal", "msgpack") of opts.Protocol; pickle, dill and cloudpickle
// are refused (Pyro4), or unknown (Pyro5).
func ForName(name string, opts Options) (Codec, error) {
	s, ok := opts.Protocol.serializerByName(name)
	if !ok {
		return nil, &SerializerError{ID: -1, Name: name, Reason: "is unknown or not available", err: ErrUnknown}
	}
	return ForID(s.id, opts)
}

// defaults and defaults5 hold, at the index of each supported id, its
// codec with default limits (a daemon looks one up for every message).
var defaults, defaults5 = func() (d4, d5 [IDCloudpickle + 1]Codec) {
	for _, s := range serializers {
		if s.coders != nil {
			d4[s.id], _ = ForID(s.id, Options{})
		}
	}
	for _, s := range serializers5 {
		d5[s.id], _ = ForID(s.id, Options{Protocol: Pyro5})
	}
	return d4, d5
}()

// Default returns the shared Pyro4 codec with default limits for id, or
// nil when the id is refused or unknown.
func Default(id int) Codec { return DefaultFor(Pyro4, id) }

// DefaultFor returns the shared codec with default limits for a serializer
// id of protocol p, or nil when p does not define the id or pyrogo refuses
// it.
func DefaultFor(p Protocol, id int) Codec {
	if id < 0 || id >= len(defaults) {
		return nil
	}
	switch p {
	case Pyro4:
		return defaults[id]
	case Pyro5:
		return defaults5[id]
	}
	return nil
}
