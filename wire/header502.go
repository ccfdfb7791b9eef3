package wire

import (
	"encoding/binary"
	"math"
	"strconv"
)

// The 502 header (Pyro5/protocol.py), big-endian:
//
//	0x00  4  "PYRO"
//	0x04  2  protocol version (502)
//	0x06  1  message type
//	0x07  1  serializer id
//	0x08  2  flags (Pyro5's bits)
//	0x0a  2  sequence number
//	0x0c  4  payload length
//	0x10  4  annotations length (all chunks)
//	0x14 16  correlation id
//	0x24  2  reserved (0)
//	0x26  2  magic number 0x4dc5

// ParseHeader502 validates and parses a 40-byte 502 header: tag, version
// and magic number, with Pyro5's texts, and lengths within what pyrogo
// reads at all (a payload of at most MaxPayload, annotations of at most
// MaxAnnotations502 bytes); Options.MaxMessageSize is ReadMessage's to
// check. Its flags are translated to protocol-neutral Flags.
func ParseHeader502(h []byte) (Header, error) {
	hd, err := parseHeader502(h)
	if err != nil {
		return Header{}, err
	}
	if err := hd.check502(); err != nil {
		return Header{}, err
	}
	return hd.Header, nil
}

// header502 is a parsed 502 header with its lengths as sent.
type header502 struct {
	Header
	payloadLen, annotationsLen uint32
}

func parseHeader502(h []byte) (header502, error) {
	if len(h) != HeaderSize502 {
		return header502{}, &ProtocolError{Msg: "header data size mismatch"}
	}
	if _, err := sniff(h, Protocol502, false); err != nil {
		return header502{}, err
	}
	if binary.BigEndian.Uint16(h[38:]) != magic502 {
		return header502{}, &ProtocolError{Msg: Msg502BadHeader, BadVersion: true, Tag: true,
			Version: uint16(Protocol502), Answer: Protocol502}
	}
	hd := header502{
		payloadLen:     binary.BigEndian.Uint32(h[12:]),
		annotationsLen: binary.BigEndian.Uint32(h[16:]),
	}
	hd.Version = Protocol502
	hd.Type = MsgType(h[6])
	hd.SerializerID = uint16(h[7])
	hd.Flags, hd.HasCorrID = flagsFrom502(binary.BigEndian.Uint16(h[8:]), hd.Type)
	hd.Seq = binary.BigEndian.Uint16(h[10:])
	copy(hd.CorrID[:], h[20:36])
	// the reserved field (h[36:38]) is ignored, as Pyro5 does
	return hd, nil
}

// total is payload plus annotations, clamped to an int.
func (hd header502) total() int {
	return int(min(uint64(hd.payloadLen)+uint64(hd.annotationsLen), math.MaxInt32))
}

// check502 refuses lengths pyrogo never reads and sets the int lengths.
func (hd *header502) check502() error {
	if hd.payloadLen > MaxPayload {
		return &TooLargeError{Size: hd.total(), Max: MaxPayload, Protocol: Protocol502}
	}
	if hd.annotationsLen > MaxAnnotations502 {
		return &ProtocolError{Msg: "annotations too large (" + strconv.FormatUint(uint64(hd.annotationsLen), 10) +
			" bytes, max=" + strconv.Itoa(MaxAnnotations502) + ")"}
	}
	hd.PayloadLen, hd.AnnotationsLen = int(hd.payloadLen), int(hd.annotationsLen)
	return nil
}

func (hd Header) append502(b []byte) []byte {
	b = append(b, 'P', 'Y', 'R', 'O')
	b = binary.BigEndian.AppendUint16(b, uint16(Protocol502))
	b = append(b, byte(hd.Type), byte(hd.SerializerID))
	b = binary.BigEndian.AppendUint16(b, hd.Flags.to502(hd.HasCorrID))
	b = binary.BigEndian.AppendUint16(b, hd.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(hd.PayloadLen))
	b = binary.BigEndian.AppendUint32(b, uint32(hd.AnnotationsLen))
	if hd.HasCorrID {
		b = append(b, hd.CorrID[:]...)
	} else {
		b = append(b, make([]byte, CorrIDSize)...)
	}
	b = binary.BigEndian.AppendUint16(b, 0)
	return binary.BigEndian.AppendUint16(b, magic502)
}
