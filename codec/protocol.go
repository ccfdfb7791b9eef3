package codec

import "fmt"

// Protocol selects the Pyro generation whose serializer conventions a
// Codec speaks. The serializers themselves (serpent, json, marshal,
// msgpack) are the same libraries in both; what differs is listed in
// dialect5.go.
type Protocol uint8

const (
	// Pyro4 is wire protocol 48 (Pyro4 4.x); the zero value, so that
	// Options{} keeps meaning what it always meant.
	Pyro4 Protocol = iota
	// Pyro5 is wire protocol 502 (Pyro5 5.x).
	Pyro5
)

// String returns "Pyro4" or "Pyro5".
func (p Protocol) String() string {
	switch p {
	case Pyro4:
		return "Pyro4"
	case Pyro5:
		return "Pyro5"
	}
	return fmt.Sprintf("Protocol(%d)", uint8(p))
}

// Valid reports whether p is Pyro4 or Pyro5.
func (p Protocol) Valid() bool { return p == Pyro4 || p == Pyro5 }

// NameOf returns the protocol's name for a serializer id, or "" for an id
// the protocol does not define.
func (p Protocol) NameOf(id int) string {
	s, _ := p.serializerByID(id)
	return s.name
}

// IDOf returns the protocol's serializer id for a serializer name.
func (p Protocol) IDOf(name string) (int, bool) {
	s, ok := p.serializerByName(name)
	return s.id, ok
}

func (p Protocol) table() []serializer {
	if p == Pyro5 {
		return serializers5
	}
	return serializers
}

func (p Protocol) serializerByID(id int) (serializer, bool) {
	for _, s := range p.table() {
		if s.id == id {
			return s, true
		}
	}
	return serializer{}, false
}

func (p Protocol) serializerByName(name string) (serializer, bool) {
	for _, s := range p.table() {
		if s.name == name {
			return s, true
		}
	}
	return serializer{}, false
}
