package accessrule

import (
	"io"
	"strings"
)

// The name server's operations (naming.Op has the same bits; see
// naming.Policy for what each covers).
const (
	NamingConnect Op = 1 << iota
	NamingBroadcast
	NamingRegister
	NamingRemove
	NamingLookup
	NamingList
)

// NamingVocabulary is the name server's (pyro ns --policy).
var NamingVocabulary = &Vocabulary{
	Service: "name server",
	Ops: []OpName{
		{Name: "connect", Op: NamingConnect},
		{Name: "broadcast", Op: NamingBroadcast},
		{Name: "register", Op: NamingRegister, Named: true},
		{Name: "remove", Op: NamingRemove, Named: true},
		{Name: "lookup", Op: NamingLookup, Named: true},
		{Name: "list", Op: NamingList, Named: true},
	},
	Aliases:   map[string]string{"discover": "broadcast"},
	ObjectKey: "name",
}

// The event server's operations (pyro es --policy):
//
//   - EventConnect: connecting, and the calls that concern no subject.
//   - EventPublish: publish to a subject.
//   - EventSubscribe: subscribe to a subject (and unsubscribe from it).
//   - EventMatch: subscribe by pattern (subscribeMatch). A pattern is not
//     a subject, so the subject conditions do not apply; the event server
//     is to deliver an event through a pattern subscription only when
//     EventSubscribe allows the subscriber's client that event's subject.
//   - EventThirdParty: subscribe a subscriber object whose URI points at
//     another host than the subscribing client's. Without it the event
//     server could be made to flood a third party with events, so no
//     rule allows it unless it is named (all includes it).
const (
	EventConnect Op = 1 << iota
	EventPublish
	EventSubscribe
	EventMatch
	EventThirdParty
)

// EventVocabulary is the event server's. Subjects are case-insensitive,
// so subject and prefix conditions match regardless of case.
var EventVocabulary = &Vocabulary{
	Service: "event server",
	Ops: []OpName{
		{Name: "connect", Op: EventConnect},
		{Name: "publish", Op: EventPublish, Named: true},
		{Name: "subscribe", Op: EventSubscribe, Named: true},
		{Name: "match", Op: EventMatch},
		{Name: "thirdparty", Op: EventThirdParty, Named: true},
	},
	ObjectKey: "subject",
	FoldCase:  true,
}

// ParseEventPolicy parses an event server policy, for example
//
//	allow connect
//	allow publish subject=lab.* identity=alice
//	allow subscribe,match host=127.0.0.0/8
//	allow thirdparty subject=lab.* host=10.1.2.3
//
// A syntax error is a *SyntaxError naming the line.
func ParseEventPolicy(r io.Reader) (*Policy, error) { return Parse(EventVocabulary, r) }

// ParseEventPolicyString parses an event server policy given as text.
func ParseEventPolicyString(s string) (*Policy, error) {
	return ParseEventPolicy(strings.NewReader(s))
}

// LoadEventPolicy reads an event server policy file.
func LoadEventPolicy(path string) (*Policy, error) { return Load(EventVocabulary, path) }
