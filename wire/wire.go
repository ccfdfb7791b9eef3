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
		if err := acct.acquire(hd.AnnotationsLen); err != nil {
			return nil, err
		}
		ab := make([]byte, hd.AnnotationsLen)
		if _, err := io.ReadFull(r, ab); err != nil {
			return nil, closedErr(err)
		}
		if m.Annotations, err = parseAnnotations(ab); err != nil {
			return nil, err
		}
	}
	if m.Data, err = readFull(r, hd.PayloadLen, acct); err != nil {
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
		compressed := m.Data
		if m.Data, err = decompress(compressed, limit, acct); err != nil {
			return m, err
		}
		acct.release(len(compressed)) // dropped (readFull allocated exactly this)
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
func decompress(b []byte, limit int, acct *account) ([]byte, error) {
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
			return nil, &TooLargeError{Size: n, Max: limit}
		}
		return buf[:n], nil
	}
	// the first buffer is full: count the rest, reusing it as scratch
	total := n
	for !eof {
		if total > limit {
			return nil, &TooLargeError{Size: total, Max: limit}
		}
		n, eof, err = readUpTo(f.zr, buf)
		if err != nil {
			return nil, badZlib(err)
		}
		total += n
	}
	if total > limit {
		return nil, &TooLargeError{Size: total, Max: limit}
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
	payload := m.Data
	flags := m.Flags &^ FlagCompressed
	if o.Compress && len(payload) >= CompressThreshold && m.Type != MsgPing && m.Type != MsgConnectFail {
		if c := compress(payload); c != nil {
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
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(a.Value)))
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
	dst = slices.Grow(dst, HeaderSize+f.hd.AnnotationsLen+len(f.payload))
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
	return f.appendHead(slices.Grow(dst, HeaderSize+f.hd.AnnotationsLen)), f.payload, nil
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
