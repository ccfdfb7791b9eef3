package wire

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
)

// Protocol constants.
const (
	HeaderSize      = 24
	ProtocolVersion = 48
	checksumMagic   = 0x34E9
	// MaxPayload is the largest payload the signed 32-bit length allows.
	MaxPayload = 1<<31 - 1
	// MaxAnnotations is the largest total size of annotation chunks.
	MaxAnnotations = 1<<16 - 1
	// CompressThreshold is the payload size from which Pyro compresses.
	CompressThreshold = 200
	// PingSerializerID is the pseudo serializer id of PING messages.
	PingSerializerID = 42
)

// MsgType is a Pyro message type.
type MsgType uint16

// Message types.
const (
	MsgConnect     MsgType = 1
	MsgConnectOK   MsgType = 2
	MsgConnectFail MsgType = 3
	MsgInvoke      MsgType = 4
	MsgResult      MsgType = 5
	MsgPing        MsgType = 6
)

func (t MsgType) String() string {
	switch t {
	case MsgConnect:
		return "CONNECT"
	case MsgConnectOK:
		return "CONNECTOK"
	case MsgConnectFail:
		return "CONNECTFAIL"
	case MsgInvoke:
		return "INVOKE"
	case MsgResult:
		return "RESULT"
	case MsgPing:
		return "PING"
	}
	return "MSG(" + strconv.Itoa(int(t)) + ")"
}

// Flags is the message flag bit set, protocol-neutral: its values are
// Pyro4's header bits, and ReadMessage and the writer translate them to
// and from Pyro5's, which number the same meanings differently
// (ITEMSTREAMRESULT is 0x10 in 502, KEEPSERIALIZED 0x20, and 502's 0x40
// is CORR_ID, which Message.CorrID stands for). So code that handles
// messages tests the same constants whatever protocol a message came in.
// FlagMetaOnConnect has no 502 bit: Pyro5 always sends the metadata in
// the handshake, so ReadMessage sets it on every 502 CONNECT and
// CONNECTOK and the 502 writer leaves it out. Bits from 0x80 on have no
// meaning in either protocol and are carried as they are.
type Flags uint16

// Message flags.
const (
	FlagException        Flags = 0x01
	FlagCompressed       Flags = 0x02
	FlagOneway           Flags = 0x04
	FlagBatch            Flags = 0x08
	FlagMetaOnConnect    Flags = 0x10
	FlagItemStreamResult Flags = 0x20
	FlagKeepSerialized   Flags = 0x40
)

// Well-known annotation keys.
const (
	AnnHMAC   = "HMAC"
	AnnCorr   = "CORR"
	AnnStream = "STRM"
	AnnBlob   = "BLBI"
)

// Annotation is one annotation chunk: a 4-character key and a value of at
// most 65535 bytes.
type Annotation struct {
	Key   string
	Value []byte
}

// Message is one Pyro message. Data is the payload as the application
// sees it: ReadMessage decompresses it (FlagCompressed stays set to tell
// what happened on the wire) and WriteMessage compresses it when asked.
type Message struct {
	// Version is the protocol the message came in (set by ReadMessage),
	// or is to be written in: 0 means as Options.Protocol says, and a
	// Version the Options contradict is an error (but Options that say
	// nothing write a 502 Message in 502, so a daemon's Options shared by
	// all its connections write each reply in its request's protocol).
	Version      Protocol
	Type         MsgType
	Flags        Flags
	Seq          uint16
	SerializerID uint16
	Annotations  []Annotation
	Data         []byte
	// CorrID is the message's correlation id (16 bytes), or nil when it
	// has none. In 502 it is the header's correlation id (FLAGS_CORR_ID
	// set); in 48 it is the value of the CORR annotation, which
	// ReadMessage also leaves in Annotations and the writer sets from
	// CorrID when CorrID is not nil. So a reply written with
	// CorrID = request.CorrID carries the id as each protocol does.
	CorrID []byte

	held int // bytes of Options.Budget acquired for this message
}

// Held returns the bytes that ReadMessage acquired from Options.Budget for
// this message (its annotations and payload) and did not release: the
// caller releases them when it is done with the message. It is 0 for a
// message read without a Budget, and for one returned with an error
// (ReadMessage has released its bytes then).
func (m *Message) Held() int { return m.held }

// Annotation returns the value of the annotation with the given key.
// A repeated key yields the last value, as Python's dict would.
func (m *Message) Annotation(key string) ([]byte, bool) {
	for i := len(m.Annotations) - 1; i >= 0; i-- {
		if m.Annotations[i].Key == key {
			return m.Annotations[i].Value, true
		}
	}
	return nil, false
}

// SetAnnotation adds or replaces an annotation, keeping insertion order.
func (m *Message) SetAnnotation(key string, value []byte) {
	for i := range m.Annotations {
		if m.Annotations[i].Key == key {
			m.Annotations[i].Value = value
			return
		}
	}
	m.Annotations = append(m.Annotations, Annotation{Key: key, Value: value})
}

// Options control reading and writing. The zero value reads and writes
// plain unsigned messages with no size limit beyond the protocol's.
type Options struct {
	// MaxMessageSize limits payload + annotations bytes (header
	// excluded), on both read and write; 0 = only the protocol limit.
	MaxMessageSize int
	// HMACKey signs outgoing messages and is required on incoming ones
	// (Pyro's symmetric rule). Empty means no key.
	HMACKey []byte
	// Compress zlib-compresses outgoing payloads of at least 200 bytes
	// when that makes them smaller (Pyro's COMPRESSION).
	Compress bool
	// MaxDecompressedSize bounds the size a compressed payload may
	// expand to; 0 means MaxMessageSize, or 256 MiB when that is 0 too.
	MaxDecompressedSize int
	// Binding, when set, replaces Pyro's HMAC by a MAC bound to the
	// connection, direction and message order (see Binding); HMACKey
	// is then not used. Options holding a Binding belong to one
	// connection.
	Binding *Binding
	// Budget, when set, is charged by ReadMessage for the memory it
	// allocates, before it allocates it (see Budget). Options holding a
	// Budget belong to one connection.
	Budget Budget
	// Protocol is the protocol written (for a Message whose Version is
	// 0) and the only one ReadMessage accepts: 0 or Protocol48 for
	// Pyro4's, Protocol502 for Pyro5's.
	Protocol Protocol
	// AnyProtocol makes ReadMessage accept both 48 and 502, whatever
	// Protocol says: for the first message of a connection, whose
	// Message.Version then tells the connection's protocol. HMACKey
	// and Binding apply to 48 messages; a 502 message read with either
	// set is refused with ErrNoHMAC (see there).
	AnyProtocol bool
}

// Budget accounts for the memory ReadMessage allocates for message
// bodies: annotations, payload and decompressed payload. A server uses it
// to bound what all its clients together make it hold.
//
// ReadMessage calls Acquire(n) before each allocation of n bytes and
// Release(n) when it drops a buffer (a compressed payload once it is
// decompressed, the chunks of a large payload once they are joined). What
// a successfully read message still holds is Message.Held, for the caller
// to release; when ReadMessage fails it releases everything itself.
type Budget interface {
	// Acquire is called before n bytes are allocated; an error refuses
	// them, and ReadMessage stops with that error. The rest of the
	// message is then unread, so the connection cannot be used further.
	Acquire(n int) error
	// Release gives back n bytes acquired earlier.
	Release(n int)
}

// account tracks what one ReadMessage acquired from a Budget.
type account struct {
	b    Budget
	held int
}

func (a *account) acquire(n int) error {
	if a.b == nil || n <= 0 {
		return nil
	}
	if err := a.b.Acquire(n); err != nil {
		return err
	}
	a.held += n
	return nil
}

func (a *account) release(n int) {
	if a.b == nil || n <= 0 {
		return
	}
	a.b.Release(n)
	a.held -= n
}

const defaultMaxDecompressed = 256 << 20

// Errors. Their texts are Pyro's, so a Go peer reports what a Python one
// would.
var (
	// ErrProtocol is matched by every malformed-message error.
	ErrProtocol = errors.New("pyro protocol error")
	// ErrTooLarge is matched by MaxMessageSize violations.
	ErrTooLarge = errors.New("max message size exceeded")
	// ErrSecurity is matched by HMAC failures.
	ErrSecurity = errors.New("pyro security error")
	// ErrClosed is returned when the peer closed the connection
	// before a whole message arrived.
	ErrClosed = errors.New("receiving: not enough data")
	// ErrBadVersion is matched by errors about a message's "PYRO" tag,
	// protocol version or (502) magic number: the peer does not speak
	// the protocol expected (see ProtocolError).
	ErrBadVersion = errors.New("unsupported protocol version")
	// ErrNoHMAC is matched by the SecurityError of a 502 message read,
	// or to be written, with an HMAC key (or Binding) configured:
	// protocol 502 has no HMAC, so the key cannot authenticate it. A
	// daemon that requires an HMAC key refuses such a connection with
	// this error's text unless it authenticates 502 connections in
	// another way (then it reads them with Options that hold no key,
	// choosing by SniffProtocol or Message.Version). ReadMessage
	// returns it after reading the whole message, with the message (as
	// for an HMAC mismatch), so the connection is left in step.
	ErrNoHMAC = errors.New("no HMAC in protocol 502")
)

// ProtocolError is a malformed message.
type ProtocolError struct {
	Msg string
	// BadVersion tells that the message was refused for its "PYRO" tag,
	// protocol version or 502 magic number (errors.Is(err,
	// ErrBadVersion)); Tag then tells whether the tag was right and
	// Version is the version field received.
	BadVersion bool
	Tag        bool
	Version    uint16
	// Answer is the protocol of a refusal for a BadVersion error: the
	// protocol the reader expected, or for a reader that accepted both
	// (the first message of a connection) 502 when the tag was right and
	// the version at least 500, else 48. Msg is the text Pyro's daemon
	// of that protocol sends in its CONNECTFAIL: Pyro4's MsgBadVersion
	// for 48, Pyro5's Msg502BadTag, Msg502BadVersion or
	// Msg502BadHeader for 502.
	Answer Protocol
}

func (e *ProtocolError) Error() string { return e.Msg }

// Is matches ErrProtocol, and ErrBadVersion for a BadVersion error.
func (e *ProtocolError) Is(target error) bool {
	return target == ErrProtocol || target == ErrBadVersion && e.BadVersion
}

// TooLargeError is a message over the size limit.
type TooLargeError struct {
	Size, Max int
	// Protocol selects the text: Pyro4's (0 or 48) or Pyro5's (502).
	Protocol Protocol
}

func (e *TooLargeError) Error() string {
	if e.Protocol == Protocol502 {
		return fmt.Sprintf("message too large (%d, max=%d)", e.Size, e.Max)
	}
	return fmt.Sprintf("max message size exceeded (%d where max=%d)", e.Size, e.Max)
}

// Is matches ErrTooLarge and ErrProtocol (Pyro's MessageTooLargeError is
// a ProtocolError).
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge || target == ErrProtocol }

// SecurityError is an HMAC failure, or an HMAC key used with protocol
// 502 (NoHMAC).
type SecurityError struct {
	Msg    string
	NoHMAC bool
}

func (e *SecurityError) Error() string { return e.Msg }

// Is matches ErrSecurity, and ErrNoHMAC for a NoHMAC error.
func (e *SecurityError) Is(target error) bool {
	return target == ErrSecurity || target == ErrNoHMAC && e.NoHMAC
}

// Pyro's exact error texts.
const (
	MsgBadVersion   = "invalid data or unsupported protocol version"
	MsgChecksum     = "header checksum mismatch"
	MsgHMACMismatch = "message hmac mismatch"
	MsgHMACSymmetry = "hmac key config not symmetric"
)

// Header is the parsed fixed part of a message of either protocol.
type Header struct {
	// Version is the header's protocol; 0 means 48.
	Version        Protocol
	Type           MsgType
	Flags          Flags // protocol-neutral (see Flags)
	Seq            uint16
	PayloadLen     int
	SerializerID   uint16
	AnnotationsLen int
	// HasCorrID and CorrID are a 502 header's FLAGS_CORR_ID and
	// correlation id.
	HasCorrID bool
	CorrID    [CorrIDSize]byte
}

// Len returns the size of the header on the wire.
func (hd Header) Len() int {
	if hd.Version == Protocol502 {
		return HeaderSize502
	}
	return HeaderSize
}

// FrameSize returns the size of the whole message on the wire: header,
// annotation chunks and payload.
func (hd Header) FrameSize() int { return hd.Len() + hd.AnnotationsLen + hd.PayloadLen }

// ParseAnyHeader parses the header at the start of b, of protocol 48 or
// 502 as its version field says (ParseHeader or ParseHeader502); b must
// hold the whole header (SniffProtocol needs only its first bytes).
func ParseAnyHeader(b []byte) (Header, error) {
	p, err := SniffProtocol(b)
	if err != nil {
		return Header{}, err
	}
	if p == Protocol502 {
		if len(b) < HeaderSize502 {
			return Header{}, &ProtocolError{Msg: "header data size mismatch"}
		}
		return ParseHeader502(b[:HeaderSize502])
	}
	if len(b) < HeaderSize {
		return Header{}, &ProtocolError{Msg: "header data size mismatch"}
	}
	return ParseHeader(b[:HeaderSize])
}

// ParseHeader validates and parses a 24-byte header (magic, version,
// checksum; nothing about sizes).
func ParseHeader(h []byte) (Header, error) {
	if len(h) != HeaderSize {
		return Header{}, &ProtocolError{Msg: "header data size mismatch"}
	}
	if string(h[:4]) != "PYRO" || binary.BigEndian.Uint16(h[4:]) != ProtocolVersion {
		return Header{}, &ProtocolError{Msg: MsgBadVersion}
	}
	hd := Header{
		Version:        Protocol48,
		Type:           MsgType(binary.BigEndian.Uint16(h[6:])),
		Flags:          Flags(binary.BigEndian.Uint16(h[8:])),
		Seq:            binary.BigEndian.Uint16(h[10:]),
		PayloadLen:     int(int32(binary.BigEndian.Uint32(h[12:]))),
		SerializerID:   binary.BigEndian.Uint16(h[16:]),
		AnnotationsLen: int(binary.BigEndian.Uint16(h[18:])),
	}
	if hd.PayloadLen < 0 {
		return Header{}, &ProtocolError{Msg: "negative payload length"}
	}
	if binary.BigEndian.Uint16(h[22:]) != hd.checksum() {
		return Header{}, &ProtocolError{Msg: MsgChecksum}
	}
	return hd, nil
}

func (hd Header) checksum() uint16 {
	return uint16((uint32(hd.Type) + ProtocolVersion + uint32(hd.PayloadLen) + uint32(hd.AnnotationsLen) +
		uint32(hd.SerializerID) + uint32(hd.Flags) + uint32(hd.Seq) + checksumMagic) & 0xffff)
}

// AppendHeader appends the header bytes: 24 of them for 48, 40 for 502.
func (hd Header) AppendHeader(b []byte) []byte {
	if hd.Version == Protocol502 {
		return hd.append502(b)
	}
	b = append(b, 'P', 'Y', 'R', 'O')
	b = binary.BigEndian.AppendUint16(b, ProtocolVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(hd.Type))
	b = binary.BigEndian.AppendUint16(b, uint16(hd.Flags))
	b = binary.BigEndian.AppendUint16(b, hd.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(hd.PayloadLen))
	b = binary.BigEndian.AppendUint16(b, hd.SerializerID)
	b = binary.BigEndian.AppendUint16(b, uint16(hd.AnnotationsLen))
	b = binary.BigEndian.AppendUint16(b, 0)
	return binary.BigEndian.AppendUint16(b, hd.checksum())
}

// smallRead is the payload size up to which ReadMessage allocates the
// whole payload at once. Larger payloads are read in chunks until half of
// them has arrived, so a lying length costs at most twice what was sent.
const smallRead = 64 << 10

// readFull reads exactly n bytes. A small n is read into one buffer of
// that size. A larger one is read into chunks (64 KiB, doubling) until
// half of it has arrived; then one buffer of exactly n bytes is made, the
// chunks are copied into it and dropped, and the rest is read in place.
// So a header that lies about the length costs at most twice the bytes
// actually sent, and an honest large payload peaks at 1.5 times its size
// instead of the three times of a buffer that doubles and copies. Every
// allocation is charged to acct first; chunks are released when dropped.
func readFull(r io.Reader, n int, acct *account) ([]byte, error) {
	if n <= smallRead {
		if err := acct.acquire(n); err != nil {
			return nil, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, closedErr(err)
		}
		return b, nil
	}
	var chunks [][]byte
	got, size, half := 0, smallRead, n/2
	for got < half {
		sz := min(size, half-got)
		if err := acct.acquire(sz); err != nil {
			return nil, err
		}
		c := make([]byte, sz)
		if _, err := io.ReadFull(r, c); err != nil {
			return nil, closedErr(err)
		}
		chunks = append(chunks, c)
		got += sz
		size *= 2
	}
	if err := acct.acquire(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	off := 0
	for i, c := range chunks {
		off += copy(b[off:], c)
		chunks[i] = nil
	}
	acct.release(got)
	if _, err := io.ReadFull(r, b[got:]); err != nil {
		return nil, closedErr(err)
	}
	return b, nil
}

func closedErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrClosed
	}
	return err
}

// ReadMessage reads one message, performing Pyro's receive checks in
// order (§1.10): header, checksum, size limit, annotations, payload, HMAC,
// then decompression. It does not check the message type; callers do.
//
// With o.Budget set, every allocation for the message is charged to it
// first (see Budget); on success the message holds Message.Held bytes of
// it.
func ReadMessage(r io.Reader, o *Options) (*Message, error) {
	if o == nil {
		o = &Options{}
	}
	acct := account{b: o.Budget}
	m, err := readMessage(r, o, &acct)
	if err != nil {
		acct.release(acct.held)
		return m, err
	}
	m.held = acct.held
	return m, nil
}

func readMessage(r io.Reader, o *Options, acct *account) (*Message, error) {
	var hb [HeaderSize502]byte
	// the tag and version first: they tell the header's size
	if _, err := io.ReadFull(r, hb[:SniffSize]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &ProtocolError{Msg: "header data size mismatch"}
		}
		return nil, closedErr(err)
	}
	p, err := sniff(hb[:SniffSize], o.Protocol, o.AnyProtocol)
	if err != nil {
		return nil, err
	}
	var hd Header
	if p == Protocol502 {
		if hd, err = readHeader502(r, hb[:], o); err != nil {
			return nil, err
		}
	} else {
		if _, err := io.ReadFull(r, hb[SniffSize:HeaderSize]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, &ProtocolError{Msg: "header data size mismatch"}
			}
			return nil, err
		}
		if hd, err = ParseHeader(hb[:HeaderSize]); err != nil {
			return nil, err
		}
		if o.MaxMessageSize > 0 && hd.PayloadLen+hd.AnnotationsLen > o.MaxMessageSize {
			return nil, &TooLargeError{Size: hd.PayloadLen + hd.AnnotationsLen, Max: o.MaxMessageSize}
		}
	}
	m := &Message{Version: p, Type: hd.Type, Flags: hd.Flags, Seq: hd.Seq, SerializerID: hd.SerializerID}
	if hd.HasCorrID {
		m.CorrID = append(make([]byte, 0, CorrIDSize), hd.CorrID[:]...)
	}
	if hd.AnnotationsLen > 0 {
		if err := acct.acquire(hd.AnnotationsLen); err != nil {
			return nil, err
		}
		ab := make([]byte, hd.AnnotationsLen)
		if _, err := io.ReadFull(r, ab); err != nil {
			return nil, closedErr(err)
		}
		if m.Annotations, err = parseAnnotations(ab, p); err != nil {
			return nil, err
		}
		if p == Protocol48 {
			if c, ok := m.Annotation(AnnCorr); ok && len(c) == CorrIDSize {
				m.CorrID = c
			}
		}
	}
	if m.Data, err = readFull(r, hd.PayloadLen, acct); err != nil {
		return nil, err
	}
	switch {
	case p == Protocol502 && (o.Binding != nil || len(o.HMACKey) > 0):
		err = &SecurityError{Msg: MsgNoHMAC502, NoHMAC: true}
	case o.Binding != nil:
		err = o.Binding.check(m)
	default:
		err = checkHMAC(m, o.HMACKey)
	}
	if err != nil {
		return m, err
	}
	if m.Flags&FlagCompressed != 0 {
		limit := o.MaxDecompressedSize
		if limit <= 0 {
			limit = o.MaxMessageSize
		}
		if limit <= 0 {
			limit = defaultMaxDecompressed
		}
		compressed := m.Data
		if m.Data, err = decompress(compressed, limit, p, acct); err != nil {
			return m, err
		}
		acct.release(len(compressed)) // dropped (readFull allocated exactly this)
	}
	return m, nil
}

// readHeader502 reads the rest of a 502 header whose first SniffSize
// bytes are in hb, and checks it and its lengths (Pyro5 checks
// MAX_MESSAGE_SIZE right after the header too).
func readHeader502(r io.Reader, hb []byte, o *Options) (Header, error) {
	if _, err := io.ReadFull(r, hb[SniffSize:HeaderSize502]); err != nil {
		// Pyro5 reports a connection closed within the header so
		return Header{}, closedErr(err)
	}
	hd, err := parseHeader502(hb[:HeaderSize502])
	if err != nil {
		return Header{}, err
	}
	if o.MaxMessageSize > 0 && uint64(hd.payloadLen)+uint64(hd.annotationsLen) > uint64(o.MaxMessageSize) {
		return Header{}, &TooLargeError{Size: hd.total(), Max: o.MaxMessageSize, Protocol: Protocol502}
	}
	if err := hd.check502(); err != nil {
		return Header{}, err
	}
	return hd.Header, nil
}

// parseAnnotations parses annotation chunks: a 4-byte key and a length of
// 2 bytes (48) or 4 bytes (502), then the value.
func parseAnnotations(b []byte, p Protocol) ([]Annotation, error) {
	var anns []Annotation
	lenSize := 2
	if p == Protocol502 {
		lenSize = 4
	}
	for len(b) > 0 {
		if len(anns) == MaxAnnotationCount {
			return nil, &ProtocolError{Msg: "more than " + strconv.Itoa(MaxAnnotationCount) + " annotations"}
		}
		if len(b) < 4+lenSize {
			if p == Protocol502 {
				return nil, &ProtocolError{Msg: "annotation chunk length exceeds remaining data"}
			}
			return nil, &ProtocolError{Msg: "annotation chunk truncated"}
		}
		key := string(b[:4])
		var n uint64
		if p == Protocol502 {
			n = uint64(binary.BigEndian.Uint32(b[4:]))
		} else {
			n = uint64(binary.BigEndian.Uint16(b[4:]))
		}
		h := 4 + lenSize
		if uint64(len(b)-h) < n {
			if p == Protocol502 {
				return nil, &ProtocolError{Msg: "annotation chunk length exceeds remaining data"}
			}
			return nil, &ProtocolError{Msg: "annotation " + strconv.Quote(key) + " value truncated"}
		}
		if p == Protocol502 && !isASCII(key) {
			// Pyro5 decodes keys as ASCII and fails on anything else
			return nil, &ProtocolError{Msg: "annotation key " + strconv.Quote(key) + " is not ASCII"}
		}
		end := h + int(n)
		anns = append(anns, Annotation{Key: key, Value: b[h:end:end]})
		b = b[end:]
	}
	return anns, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ComputeHMAC returns Pyro's HMAC-SHA1 of a message: the payload bytes as
// on the wire, then the values of all other annotations sorted by key.
func ComputeHMAC(key, wirePayload []byte, anns []Annotation) []byte {
	mac := hmac.New(sha1.New, key)
	mac.Write(wirePayload)
	idx := make([]int, 0, len(anns))
	for i, a := range anns {
		if a.Key != AnnHMAC {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch ka, kb := anns[a].Key, anns[b].Key; {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	// a repeated key counts once, with its last value (Python's dict)
	for j, i := range idx {
		if j+1 < len(idx) && anns[idx[j+1]].Key == anns[i].Key {
			continue
		}
		mac.Write(anns[i].Value)
	}
	return mac.Sum(nil)
}

func checkHMAC(m *Message, key []byte) error {
	got, has := m.Annotation(AnnHMAC)
	switch {
	case has && len(key) > 0:
		if !hmac.Equal(got, ComputeHMAC(key, m.Data, m.Annotations)) {
			return &SecurityError{Msg: MsgHMACMismatch}
		}
	case has || len(key) > 0:
		return &SecurityError{Msg: MsgHMACSymmetry}
	}
	return nil
}

// decompress inflates a zlib payload of at most limit bytes. Memory grows
// only as output is produced and never far past the limit:
//
//   - the output is first inflated into one buffer of 4 times the
//     compressed size (at least 512 bytes, at most 1 MiB and limit+1); a
//     stream that ends within it is done;
//   - otherwise the rest is inflated into that same buffer only to count
//     it, stopping with a TooLargeError as soon as the count passes the
//     limit, so a zip bomb costs the first buffer and CPU time, never its
//     expansion;
//   - a stream within the limit is then inflated again, into a buffer of
//     exactly its size.
//
// So a payload that expands to N bytes costs N plus at most 1 MiB, at
// the price of inflating large payloads twice. Allocations are charged to
// acct; the first buffer is released when dropped.
func decompress(b []byte, limit int, p Protocol, acct *account) ([]byte, error) {
	f, err := getInflater(b)
	if err != nil {
		return nil, badZlib(err)
	}
	defer f.put()
	limit = min(limit, MaxPayload<<4) // so that limit+1 cannot overflow
	first := min(max(4*len(b), 512), 1<<20, limit+1)
	if err := acct.acquire(first); err != nil {
		return nil, err
	}
	buf := make([]byte, first)
	n, eof, err := readUpTo(f.zr, buf)
	if err != nil {
		return nil, badZlib(err)
	}
	if eof {
		if n > limit {
			return nil, &TooLargeError{Size: n, Max: limit, Protocol: p}
		}
		return buf[:n], nil
	}
	// the first buffer is full: count the rest, reusing it as scratch
	total := n
	for !eof {
		if total > limit {
			return nil, &TooLargeError{Size: total, Max: limit, Protocol: p}
		}
		n, eof, err = readUpTo(f.zr, buf)
		if err != nil {
			return nil, badZlib(err)
		}
		total += n
	}
	if total > limit {
		return nil, &TooLargeError{Size: total, Max: limit, Protocol: p}
	}
	if total == len(buf) {
		return buf, nil // it ended exactly at the end of the first buffer
	}
	if err := acct.acquire(total); err != nil {
		return nil, err
	}
	out := make([]byte, total)
	acct.release(first)
	buf = nil
	if err := f.reset(b); err != nil {
		return nil, badZlib(err)
	}
	if n, _, err = readUpTo(f.zr, out); err != nil || n != total {
		return nil, badZlib(fmt.Errorf("stream changed between passes (%d of %d bytes): %v", n, total, err))
	}
	return out, nil
}

// readUpTo fills buf from r; eof tells that r ended (at n bytes). Unlike
// io.ReadFull it keeps a clean end apart from a truncated zlib stream
// (which the zlib reader reports as io.ErrUnexpectedEOF).
func readUpTo(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

func badZlib(err error) error {
	return &ProtocolError{Msg: "invalid compressed payload: " + err.Error()}
}

// inflater is a pooled zlib reader (its window is 32 KiB; making one per
// message would cost more than the messages compression is used for).
type inflater struct {
	br bytes.Reader
	zr io.ReadCloser
}

var inflaters sync.Pool

func getInflater(data []byte) (*inflater, error) {
	if f, ok := inflaters.Get().(*inflater); ok {
		if err := f.reset(data); err != nil {
			f.put()
			return nil, err
		}
		return f, nil
	}
	f := &inflater{}
	f.br.Reset(data)
	zr, err := zlib.NewReader(&f.br)
	if err != nil {
		return nil, err
	}
	f.zr = zr
	return f, nil
}

func (f *inflater) reset(data []byte) error {
	f.br.Reset(data)
	return f.zr.(zlib.Resetter).Reset(&f.br, nil)
}

// put returns the reader to the pool, keeping no reference to the data.
func (f *inflater) put() {
	f.br.Reset(nil)
	inflaters.Put(f)
}

var deflaters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

// errNotSmaller stops a compression that would not save anything.
var errNotSmaller = errors.New("compressed form not smaller")

// boundedBuffer collects compressed output and refuses to reach max bytes.
type boundedBuffer struct {
	b   []byte
	max int
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	n := len(w.b) + len(p)
	if n >= w.max {
		return 0, errNotSmaller
	}
	if n > cap(w.b) {
		// double (append's 1.25× steps would allocate 5× the result in
		// all), but never past the point where compressing stops paying
		nb := make([]byte, len(w.b), min(max(2*cap(w.b), n), w.max-1))
		copy(nb, w.b)
		w.b = nb
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// compress returns the zlib form of b, or nil when it is not smaller than
// b. It never holds more than len(b) bytes of output.
func compress(b []byte) []byte {
	out := boundedBuffer{b: make([]byte, 0, min(max(len(b)/8, 256), len(b))), max: len(b)}
	zw := deflaters.Get().(*zlib.Writer)
	zw.Reset(&out)
	_, err := zw.Write(b)
	if err == nil {
		err = zw.Close()
	}
	zw.Reset(nil)
	deflaters.Put(zw)
	if err != nil {
		return nil
	}
	return out.b
}

// frame is a message ready for the wire: its header, its annotation
// chunks (with the MAC) and its payload as sent.
type frame struct {
	hd      Header
	anns    []Annotation
	payload []byte
}

// makeFrame compresses, signs and checks m. It consumes a message number
// of o.Binding.
func makeFrame(m *Message, o *Options) (frame, error) {
	if o == nil {
		o = &Options{}
	}
	p := o.Protocol.or48()
	if m.Version != 0 && m.Version != p {
		if o.Protocol != 0 || m.Version != Protocol502 {
			return frame{}, &ProtocolError{Msg: "message of protocol " + m.Version.String() + " written with options for protocol " + p.String()}
		}
		p = m.Version // the message says 502 and the options nothing
	}
	if p != Protocol48 && p != Protocol502 {
		return frame{}, &ProtocolError{Msg: "cannot write protocol " + p.String()}
	}
	if m.CorrID != nil && len(m.CorrID) != CorrIDSize {
		return frame{}, &ProtocolError{Msg: "correlation id of " + strconv.Itoa(len(m.CorrID)) + " bytes, want 16"}
	}
	if p == Protocol502 {
		return makeFrame502(m, o)
	}
	payload := m.Data
	flags := m.Flags &^ FlagCompressed
	if o.Compress && len(payload) >= CompressThreshold && m.Type != MsgPing && m.Type != MsgConnectFail {
		if c := compress(payload); c != nil {
			payload, flags = c, flags|FlagCompressed
		}
	}
	anns := m.Annotations
	if m.CorrID != nil {
		if c, ok := m.Annotation(AnnCorr); !ok || !bytes.Equal(c, m.CorrID) {
			anns = make([]Annotation, 0, len(m.Annotations)+1)
			for _, a := range m.Annotations {
				if a.Key != AnnCorr {
					anns = append(anns, a)
				}
			}
			anns = append(anns, Annotation{Key: AnnCorr, Value: m.CorrID})
		}
	}
	if o.Binding != nil {
		unsigned := anns
		anns = make([]Annotation, 0, len(unsigned)+1)
		for _, a := range unsigned {
			if a.Key != AnnHMAC {
				anns = append(anns, a)
			}
		}
		// the header fields are final here except the lengths, which
		// the MAC covers through the chunks and payload themselves
		hd := Header{Type: m.Type, Flags: flags, Seq: m.Seq, SerializerID: m.SerializerID}
		anns = append(anns, Annotation{Key: AnnHMAC, Value: o.Binding.sum(o.Binding.sendLabel, o.Binding.sent, hd, anns, payload)})
	} else if len(o.HMACKey) > 0 {
		unsigned := anns
		anns = make([]Annotation, 0, len(unsigned)+1)
		for _, a := range unsigned {
			if a.Key != AnnHMAC {
				anns = append(anns, a)
			}
		}
		anns = append(anns, Annotation{Key: AnnHMAC, Value: ComputeHMAC(o.HMACKey, payload, anns)})
	}
	annLen := 0
	for _, a := range anns {
		if len(a.Key) != 4 {
			return frame{}, &ProtocolError{Msg: "annotation key must be of length 4"}
		}
		if len(a.Value) > 0xffff {
			return frame{}, &ProtocolError{Msg: "annotation " + strconv.Quote(a.Key) + " value longer than 65535 bytes"}
		}
		annLen += 6 + len(a.Value)
	}
	if annLen > MaxAnnotations {
		return frame{}, &ProtocolError{Msg: "annotations longer than 65535 bytes in total"}
	}
	if len(anns) > MaxAnnotationCount {
		return frame{}, &ProtocolError{Msg: "more than " + strconv.Itoa(MaxAnnotationCount) + " annotations"}
	}
	if len(payload) > MaxPayload {
		return frame{}, &TooLargeError{Size: len(payload), Max: MaxPayload}
	}
	if o.MaxMessageSize > 0 && len(payload)+annLen > o.MaxMessageSize {
		return frame{}, &TooLargeError{Size: len(payload) + annLen, Max: o.MaxMessageSize}
	}
	if o.Binding != nil {
		o.Binding.sent++ // the message is complete: it consumes its number
	}
	hd := Header{Type: m.Type, Flags: flags, Seq: m.Seq, PayloadLen: len(payload), SerializerID: m.SerializerID, AnnotationsLen: annLen}
	return frame{hd: hd, anns: anns, payload: payload}, nil
}

func (f *frame) appendHead(dst []byte) []byte {
	dst = f.hd.AppendHeader(dst)
	for _, a := range f.anns {
		dst = append(dst, a.Key...)
		if f.hd.Version == Protocol502 {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(a.Value)))
		} else {
			dst = binary.BigEndian.AppendUint16(dst, uint16(len(a.Value)))
		}
		dst = append(dst, a.Value...)
	}
	return dst
}

// AppendMessage appends the wire form of m: compressed if o.Compress says
// so and it pays, then signed if o.HMACKey is set (any HMAC annotation in
// m is replaced). m is not modified.
func AppendMessage(dst []byte, m *Message, o *Options) ([]byte, error) {
	f, err := makeFrame(m, o)
	if err != nil {
		return nil, err
	}
	dst = slices.Grow(dst, f.hd.Len()+f.hd.AnnotationsLen+len(f.payload))
	dst = f.appendHead(dst)
	return append(dst, f.payload...), nil
}

// AppendFrame is AppendMessage in two parts, for large payloads: it
// appends the header and the annotation chunks to dst and returns them as
// head, and returns the payload as it goes on the wire after them (m.Data
// itself, or its compressed form) without copying it. Writing head and
// then payload sends the bytes AppendMessage would have built.
func AppendFrame(dst []byte, m *Message, o *Options) (head, payload []byte, err error) {
	f, err := makeFrame(m, o)
	if err != nil {
		return nil, nil, err
	}
	return f.appendHead(slices.Grow(dst, f.hd.Len()+f.hd.AnnotationsLen)), f.payload, nil
}

// WriteMessage writes m with a single Write call (Pyro avoids several
// small writes because of Nagle delays).
func WriteMessage(w io.Writer, m *Message, o *Options) error {
	b, err := AppendMessage(nil, m, o)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
