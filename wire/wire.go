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

// Flags is the message flag bit set.
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
	Type         MsgType
	Flags        Flags
	Seq          uint16
	SerializerID uint16
	Annotations  []Annotation
	Data         []byte
}

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
)

// ProtocolError is a malformed message.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string        { return e.Msg }
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// TooLargeError is a message over the size limit.
type TooLargeError struct{ Size, Max int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("max message size exceeded (%d where max=%d)", e.Size, e.Max)
}

// Is matches ErrTooLarge and ErrProtocol (Pyro's MessageTooLargeError is
// a ProtocolError).
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge || target == ErrProtocol }

// SecurityError is an HMAC failure.
type SecurityError struct{ Msg string }

func (e *SecurityError) Error() string        { return e.Msg }
func (e *SecurityError) Is(target error) bool { return target == ErrSecurity }

// Pyro's exact error texts.
const (
	MsgBadVersion   = "invalid data or unsupported protocol version"
	MsgChecksum     = "header checksum mismatch"
	MsgHMACMismatch = "message hmac mismatch"
	MsgHMACSymmetry = "hmac key config not symmetric"
)

// Header is the parsed fixed part of a message.
type Header struct {
	Type           MsgType
	Flags          Flags
	Seq            uint16
	PayloadLen     int
	SerializerID   uint16
	AnnotationsLen int
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

// AppendHeader appends the 24 header bytes.
func (hd Header) AppendHeader(b []byte) []byte {
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

// readFull reads exactly n bytes, growing the buffer only as data
// arrives, so a lying length cannot make it allocate more than was sent.
func readFull(r io.Reader, n int) ([]byte, error) {
	const chunk = 64 << 10
	if n <= chunk {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, closedErr(err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, closedErr(err)
	}
	return buf.Bytes(), nil
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
func ReadMessage(r io.Reader, o *Options) (*Message, error) {
	if o == nil {
		o = &Options{}
	}
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &ProtocolError{Msg: "header data size mismatch"}
		}
		return nil, closedErr(err)
	}
	hd, err := ParseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	if o.MaxMessageSize > 0 && hd.PayloadLen+hd.AnnotationsLen > o.MaxMessageSize {
		return nil, &TooLargeError{Size: hd.PayloadLen + hd.AnnotationsLen, Max: o.MaxMessageSize}
	}
	m := &Message{Type: hd.Type, Flags: hd.Flags, Seq: hd.Seq, SerializerID: hd.SerializerID}
	if hd.AnnotationsLen > 0 {
		ab := make([]byte, hd.AnnotationsLen)
		if _, err := io.ReadFull(r, ab); err != nil {
			return nil, closedErr(err)
		}
		if m.Annotations, err = parseAnnotations(ab); err != nil {
			return nil, err
		}
	}
	if m.Data, err = readFull(r, hd.PayloadLen); err != nil {
		return nil, err
	}
	if o.Binding != nil {
		err = o.Binding.check(m)
	} else {
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
		if m.Data, err = decompress(m.Data, limit); err != nil {
			return m, err
		}
	}
	return m, nil
}

func parseAnnotations(b []byte) ([]Annotation, error) {
	var anns []Annotation
	for len(b) > 0 {
		if len(b) < 6 {
			return nil, &ProtocolError{Msg: "annotation chunk truncated"}
		}
		key := string(b[:4])
		n := int(binary.BigEndian.Uint16(b[4:]))
		if len(b) < 6+n {
			return nil, &ProtocolError{Msg: "annotation " + strconv.Quote(key) + " value truncated"}
		}
		anns = append(anns, Annotation{Key: key, Value: b[6 : 6+n : 6+n]})
		b = b[6+n:]
	}
	return anns, nil
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

func decompress(b []byte, limit int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, &ProtocolError{Msg: "invalid compressed payload: " + err.Error()}
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, &ProtocolError{Msg: "invalid compressed payload: " + err.Error()}
	}
	if n > int64(limit) {
		return nil, &TooLargeError{Size: int(n), Max: limit}
	}
	return out.Bytes(), nil
}

func compress(b []byte) []byte {
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// AppendMessage appends the wire form of m: compressed if o.Compress says
// so and it pays, then signed if o.HMACKey is set (any HMAC annotation in
// m is replaced). m is not modified.
func AppendMessage(dst []byte, m *Message, o *Options) ([]byte, error) {
	if o == nil {
		o = &Options{}
	}
	payload := m.Data
	flags := m.Flags &^ FlagCompressed
	if o.Compress && len(payload) >= CompressThreshold && m.Type != MsgPing && m.Type != MsgConnectFail {
		if c := compress(payload); len(c) < len(payload) {
			payload, flags = c, flags|FlagCompressed
		}
	}
	anns := m.Annotations
	if o.Binding != nil {
		anns = make([]Annotation, 0, len(m.Annotations)+1)
		for _, a := range m.Annotations {
			if a.Key != AnnHMAC {
				anns = append(anns, a)
			}
		}
		// the header fields are final here except the lengths, which
		// the MAC covers through the chunks and payload themselves
		hd := Header{Type: m.Type, Flags: flags, Seq: m.Seq, SerializerID: m.SerializerID}
		anns = append(anns, Annotation{Key: AnnHMAC, Value: o.Binding.sum(o.Binding.sendLabel, o.Binding.sent, hd, anns, payload)})
	} else if len(o.HMACKey) > 0 {
		anns = make([]Annotation, 0, len(m.Annotations)+1)
		for _, a := range m.Annotations {
			if a.Key != AnnHMAC {
				anns = append(anns, a)
			}
		}
		anns = append(anns, Annotation{Key: AnnHMAC, Value: ComputeHMAC(o.HMACKey, payload, anns)})
	}
	annLen := 0
	for _, a := range anns {
		if len(a.Key) != 4 {
			return nil, &ProtocolError{Msg: "annotation key must be of length 4"}
		}
		if len(a.Value) > 0xffff {
			return nil, &ProtocolError{Msg: "annotation " + strconv.Quote(a.Key) + " value longer than 65535 bytes"}
		}
		annLen += 6 + len(a.Value)
	}
	if annLen > MaxAnnotations {
		return nil, &ProtocolError{Msg: "annotations longer than 65535 bytes in total"}
	}
	if len(payload) > MaxPayload {
		return nil, &TooLargeError{Size: len(payload), Max: MaxPayload}
	}
	if o.MaxMessageSize > 0 && len(payload)+annLen > o.MaxMessageSize {
		return nil, &TooLargeError{Size: len(payload) + annLen, Max: o.MaxMessageSize}
	}
	hd := Header{Type: m.Type, Flags: flags, Seq: m.Seq, PayloadLen: len(payload), SerializerID: m.SerializerID, AnnotationsLen: annLen}
	if o.Binding != nil {
		o.Binding.sent++ // the message is complete: it consumes its number
	}
	dst = slices.Grow(dst, HeaderSize+annLen+len(payload))
	dst = hd.AppendHeader(dst)
	for _, a := range anns {
		dst = append(dst, a.Key...)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(a.Value)))
		dst = append(dst, a.Value...)
	}
	return append(dst, payload...), nil
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
