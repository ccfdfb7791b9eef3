package wire

import "strconv"

// makeFrame502 builds a 502 frame the way Pyro5's SendingMessage does:
// the payload compressed when compression is on and it is longer than
// 100 bytes (pyrogo only when that makes it smaller), no HMAC (an HMAC
// key or Binding is an error, ErrNoHMAC), the correlation id in the
// header with FLAGS_CORR_ID, annotation chunks with 32-bit lengths, and
// payload plus annotations within MaxMessageSize.
func makeFrame502(m *Message, o *Options) (frame, error) {
	if len(o.HMACKey) > 0 || o.Binding != nil {
		return frame{}, &SecurityError{Msg: MsgNoHMAC502, NoHMAC: true}
	}
	if m.Type > 0xff {
		return frame{}, &ProtocolError{Msg: "message type " + strconv.Itoa(int(m.Type)) + " does not fit protocol 502's byte"}
	}
	if m.SerializerID > 0xff {
		return frame{}, &ProtocolError{Msg: "serializer id " + strconv.Itoa(int(m.SerializerID)) + " does not fit protocol 502's byte"}
	}
	payload := m.Data
	flags := m.Flags &^ FlagCompressed
	if o.Compress && len(payload) > CompressThreshold502 {
		if c := compress(payload); c != nil {
			payload, flags = c, flags|FlagCompressed
		}
	}
	annLen := 0
	for _, a := range m.Annotations {
		if len(a.Key) != 4 || !isASCII(a.Key) {
			return frame{}, &ProtocolError{Msg: "annotation identifier must be 4 ascii characters"}
		}
		annLen += 8 + len(a.Value)
		if annLen > MaxAnnotations502 {
			return frame{}, &ProtocolError{Msg: "annotations longer than " + strconv.Itoa(MaxAnnotations502) + " bytes in total"}
		}
	}
	if len(m.Annotations) > MaxAnnotationCount {
		return frame{}, &ProtocolError{Msg: "more than " + strconv.Itoa(MaxAnnotationCount) + " annotations"}
	}
	if len(payload) > MaxPayload {
		return frame{}, &TooLargeError{Size: len(payload), Max: MaxPayload, Protocol: Protocol502}
	}
	if o.MaxMessageSize > 0 && len(payload)+annLen > o.MaxMessageSize {
		return frame{}, &TooLargeError{Size: len(payload) + annLen, Max: o.MaxMessageSize, Protocol: Protocol502}
	}
	hd := Header{Version: Protocol502, Type: m.Type, Flags: flags, Seq: m.Seq, PayloadLen: len(payload),
		SerializerID: m.SerializerID, AnnotationsLen: annLen, HasCorrID: m.CorrID != nil}
	copy(hd.CorrID[:], m.CorrID)
	return frame{hd: hd, anns: m.Annotations, payload: payload}, nil
}
