package accessrule

import (
	"fmt"
	"strings"
)

// Op is a set of operations, one bit each; a Vocabulary names the bits.
type Op uint32

// OpName names one operation of a Vocabulary.
type OpName struct {
	// Name is the operation's word in a policy file.
	Name string
	// Op is its bit.
	Op Op
	// Named is true when the operation concerns an object (a name, a
	// subject), so that the object conditions of a rule apply to it.
	Named bool
}

// Vocabulary is a service's operations and the words of its rules.
type Vocabulary struct {
	// Service names the service in messages ("name server").
	Service string
	// Ops are the operations, in the order they are printed.
	Ops []OpName
	// Aliases are further words for operations (alias → Ops name).
	Aliases map[string]string
	// ObjectKey is the condition key of an operation's object: "name"
	// for the name server, "subject" for the event server.
	ObjectKey string
	// FoldCase makes object patterns and prefixes match regardless of
	// case (event subjects are case-insensitive).
	FoldCase bool
}

// All is every operation of v.
func (v *Vocabulary) All() Op {
	var all Op
	for _, n := range v.Ops {
		all |= n.Op
	}
	return all
}

// named is the set of operations the object conditions apply to.
func (v *Vocabulary) named() Op {
	var m Op
	for _, n := range v.Ops {
		if n.Named {
			m |= n.Op
		}
	}
	return m
}

// Format names the operations of o, comma separated ("all" when o is
// All). Bits v does not name are left out.
func (v *Vocabulary) Format(o Op) string {
	if o == v.All() {
		return "all"
	}
	var parts []string
	for _, n := range v.Ops {
		if o&n.Op != 0 {
			parts = append(parts, n.Name)
		}
	}
	return strings.Join(parts, ",")
}

// parseOps parses a comma-separated operation list.
func (v *Vocabulary) parseOps(s string) (Op, error) {
	var ops Op
	for _, o := range strings.Split(s, ",") {
		if o == "all" || o == "*" {
			ops |= v.All()
			continue
		}
		if a, ok := v.Aliases[o]; ok {
			o = a
		}
		found := false
		for _, n := range v.Ops {
			if n.Name == o {
				ops |= n.Op
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown operation %q", o)
		}
	}
	return ops, nil
}

// opList is the operations for messages: "a, b or all".
func (v *Vocabulary) opList() string {
	var names []string
	for _, n := range v.Ops {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ") + " or all"
}

// keyList is the condition keys for messages.
func (v *Vocabulary) keyList() string {
	return v.ObjectKey + ", prefix, identity, cn or host"
}
