package wire

import (
	"encoding/binary"
	"strconv"
)

// Protocol is a Pyro wire protocol version: the version field at offset 4
// of every message header.
type Protocol uint16

// The protocols pyrogo speaks.
const (
	// Protocol48 is Pyro4's protocol (24-byte header, HMAC).
	Protocol48 Protocol = 48
	// Protocol502 is Pyro5's protocol (40-byte header, correlation id in
	// the header, no HMAC).
	Protocol502 Protocol = 502
)

func (p Protocol) String() string {
	switch p {
	case Protocol48:
		return "48 (Pyro4)"
	case Protocol502:
		return "502 (Pyro5)"
	}
	return strconv.Itoa(int(p))
}

// or48 returns p, or Protocol48 for the zero value.
func (p Protocol) or48() Protocol {
	if p == 0 {
		return Protocol48
	}
	return p
}

// Protocol 502 constants.
const (
	// HeaderSize502 is the size of a 502 header.
	HeaderSize502 = 40
	// SniffSize is the number of leading bytes that tell a message's
	// protocol: the "PYRO" tag and the version field.
	SniffSize = 6
	magic502  = 0x4dc5
	// CompressThreshold502 is the payload size above which Pyro5
	// compresses (it compresses payloads longer than 100 bytes).
	CompressThreshold502 = 100
	// MaxAnnotations502 bounds the total size of a 502 message's
	// annotation chunks. The 502 header allows 4 GiB; Pyro5 uses a few
	// short annotations, so pyrogo keeps the bound that 48's 16-bit
	// field gives, on reading and on writing.
	MaxAnnotations502 = MaxAnnotations
	// MaxAnnotationCount bounds the number of annotation chunks of a
	// message of either protocol (Pyro uses at most four at once).
	MaxAnnotationCount = 256
	// CorrIDSize is the size of a correlation id (a UUID's bytes).
	CorrIDSize = 16
)

// Pyro5's header flag bits (Pyro5/protocol.py). Message.Flags never holds
// these: ReadMessage translates them to the protocol-neutral Flags and
// the writer translates back (see Flags).
const (
	flag502Exception        = 0x01
	flag502Compressed       = 0x02
	flag502Oneway           = 0x04
	flag502Batch            = 0x08
	flag502ItemStreamResult = 0x10
	flag502KeepSerialized   = 0x20
	flag502CorrID           = 0x40
)

// Pyro5's error texts (Pyro5/protocol.py), used for 502 messages.
const (
	// Msg502BadTag is Pyro5's text for data that does not start with
	// "PYRO".
	Msg502BadTag = "invalid data"
	// Msg502BadHeader is Pyro5's text for a 502 header whose magic
	// number is wrong.
	Msg502BadHeader = "invalid message or protocol version"
	// MsgNoHMAC502 is pyrogo's text for an HMAC key used with protocol
	// 502, which has no HMAC.
	MsgNoHMAC502 = "pyro protocol 502 (Pyro5) has no HMAC: an HMAC key is configured, so 502 messages cannot be authenticated by it"
)

// Msg502BadVersion returns Pyro5's text for a message of another
// protocol version.
func Msg502BadVersion(v uint16) string {
	return "invalid protocol version: " + strconv.Itoa(int(v))
}

// to502 translates protocol-neutral flags to Pyro5's header bits. There
// is no 502 bit for FlagMetaOnConnect (Pyro5 always sends metadata in the
// handshake), so it is left out; bits pyrogo does not know are kept.
func (f Flags) to502(corr bool) uint16 {
	w := uint16(f) & (flag502Exception | flag502Compressed | flag502Oneway | flag502Batch)
	if f&FlagItemStreamResult != 0 {
		w |= flag502ItemStreamResult
	}
	if f&FlagKeepSerialized != 0 {
		w |= flag502KeepSerialized
	}
	if corr {
		w |= flag502CorrID
	}
	return w | uint16(f)&^0x7f
}

// flagsFrom502 translates Pyro5's header bits to protocol-neutral flags
// and tells whether FLAGS_CORR_ID was set. Bits pyrogo does not know are
// kept.
func flagsFrom502(w uint16, t MsgType) (Flags, bool) {
	f := Flags(w) & (FlagException | FlagCompressed | FlagOneway | FlagBatch)
	if w&flag502ItemStreamResult != 0 {
		f |= FlagItemStreamResult
	}
	if w&flag502KeepSerialized != 0 {
		f |= FlagKeepSerialized
	}
	if t == MsgConnect || t == MsgConnectOK {
		// a Pyro5 handshake always carries the metadata
		f |= FlagMetaOnConnect
	}
	return f | Flags(w)&^0x7f, w&flag502CorrID != 0
}

// SniffProtocol tells the protocol of a message from its first SniffSize
// bytes, as a daemon does with a connection's first message (peeking
// them, so that ReadMessage then reads the whole message). It accepts 48
// and 502; anything else is a *ProtocolError with BadVersion set, whose
// Msg and Answer say how to refuse it (see ProtocolError).
func SniffProtocol(b []byte) (Protocol, error) {
	if len(b) < SniffSize {
		return 0, &ProtocolError{Msg: "header data size mismatch"}
	}
	return sniff(b, 0, true)
}

// sniff checks the tag and version of b (at least SniffSize bytes)
// against the protocol a reader expects (want; 0 = 48), or against both
// when any is set.
func sniff(b []byte, want Protocol, any bool) (Protocol, error) {
	want = want.or48()
	tag := string(b[:4]) == "PYRO"
	v := binary.BigEndian.Uint16(b[4:])
	if tag {
		if p := Protocol(v); p == want || any && (p == Protocol48 || p == Protocol502) {
			return p, nil
		}
	}
	e := &ProtocolError{BadVersion: true, Tag: tag, Version: v, Answer: want}
	if any {
		// the first message of a connection: answer a peer that looks
		// like a Pyro5 one (a version from 500 on) as Pyro5 would, and
		// anything else as Pyro4 would
		e.Answer = Protocol48
		if tag && v >= 500 {
			e.Answer = Protocol502
		}
	}
	switch {
	case e.Answer == Protocol48:
		e.Msg = MsgBadVersion
	case !tag:
		e.Msg = Msg502BadTag
	default:
		e.Msg = Msg502BadVersion(v)
	}
	return 0, e
}
