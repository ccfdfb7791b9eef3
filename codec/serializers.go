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
	coders func(lim py.Limits) coders
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

func serializerByID(id int) (serializer, bool) {
	for _, s := range serializers {
		if s.id == id {
			return s, true
		}
	}
	return serializer{}, false
}

func serializerByName(name string) (serializer, bool) {
	for _, s := range serializers {
		if s.name == name {
			return s, true
		}
	}
	return serializer{}, false
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

// NameOf returns Pyro's name for a serializer id, or "" for an unknown id.
func NameOf(id int) string {
	s, _ := serializerByID(id)
	return s.name
}

// IDOf returns the serializer id for a Pyro serializer name.
func IDOf(name string) (int, bool) {
	s, ok := serializerByName(name)
	return s.id, ok
}

// ForID returns the codec for a serializer id. Pickle, dill and
// cloudpickle are refused (ErrRefused), other unknown ids too (ErrUnknown).
func ForID(id int, opts Options) (Codec, error) {
	s, ok := serializerByID(id)
	if !ok {
		return nil, &SerializerError{ID: id, Reason: "is not a Pyro serializer", err: ErrUnknown}
	}
	if s.coders == nil {
		return nil, &SerializerError{ID: id, Name: s.name, Reason: codeExecution, err: ErrRefused}
	}
	return &pyroCodec{id: s.id, name: s.name, coders: s.coders(opts.Limits.Resolved())}, nil
}

// ForName returns the codec for a Pyro serializer name ("serpent", "json",
// "marshal", "msgpack"); pickle, dill and cloudpickle are refused.
func ForName(name string, opts Options) (Codec, error) {
	s, ok := serializerByName(name)
	if !ok {
		return nil, &SerializerError{ID: -1, Name: name, Reason: "is unknown or not available", err: ErrUnknown}
	}
	return ForID(s.id, opts)
}

// defaults holds, at the index of each supported id, its codec with
// default limits (a daemon looks one up for every message).
var defaults = func() (d [IDCloudpickle + 1]Codec) {
	for _, s := range serializers {
		if s.coders != nil {
			d[s.id], _ = ForID(s.id, Options{})
		}
	}
	return d
}()

// Default returns the shared codec with default limits for id, or nil when
// the id is refused or unknown.
func Default(id int) Codec {
	if id < 0 || id >= len(defaults) {
		return nil
	}
	return defaults[id]
}
