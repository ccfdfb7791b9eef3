package trojan

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"net"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// SerializerIDs are the ids the payloads are sent under: pickle (4) and
// disguised as serpent, json, marshal and msgpack.
var SerializerIDs = []uint16{4, 1, 2, 3, 6}

// Result is how a daemon answered one delivery of a payload.
type Result struct {
	How    string // e.g. "CONNECT id 3 compressed"
	Answer string // "CONNECTFAIL: reason", "exception: Class", "closed", ...
	// Accepted is true when the daemon took the payload as a valid
	// message: a CONNECTOK, or a RESULT that is not an exception.
	Accepted bool
}

// Send delivers data to the daemon at network/addr in every way a client
// can: as the payload of its CONNECT and, after a proper serpent CONNECT
// to object, as the payload of an INVOKE; under every id of SerializerIDs,
// plain and zlib-compressed. Each delivery uses a new connection.
func Send(network, addr, object string, data []byte) ([]Result, error) {
	var out []Result
	for _, id := range SerializerIDs {
		for _, compressed := range []bool{false, true} {
			for _, invoke := range []bool{false, true} {
				r, err := sendOne(network, addr, object, data, id, compressed, invoke)
				if err != nil {
					return out, err
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func sendOne(network, addr, object string, data []byte, id uint16, compressed, invoke bool) (Result, error) {
	how := fmt.Sprintf("CONNECT id %d", id)
	if invoke {
		how = fmt.Sprintf("INVOKE id %d", id)
	}
	if compressed {
		how += " compressed"
	}
	r := Result{How: how}
	nc, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return r, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	typ := wire.MsgConnect
	if invoke {
		hs, _ := codec.Default(codec.IDSerpent).Marshal(py.DictOf("handshake", "hello", "object", object))
		if err := wire.WriteMessage(nc, &wire.Message{Type: wire.MsgConnect, SerializerID: codec.IDSerpent, Data: hs}, nil); err != nil {
			return r, err
		}
		m, err := wire.ReadMessage(br, nil)
		if err != nil || m.Type != wire.MsgConnectOK {
			return r, fmt.Errorf("trojan: proper CONNECT refused: %v %v", m, err)
		}
		typ = wire.MsgInvoke
	}
	payload, flags := data, wire.Flags(0)
	if compressed {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		payload, flags = z.Bytes(), wire.FlagCompressed
	}
	// written raw: AppendMessage would decide on compression itself
	hd := wire.Header{Type: typ, Flags: flags, Seq: 1, SerializerID: id, PayloadLen: len(payload)}
	if _, err := nc.Write(append(hd.AppendHeader(nil), payload...)); err != nil {
		r.Answer = "closed"
		return r, nil
	}
	m, err := wire.ReadMessage(br, nil)
	switch {
	case err != nil:
		r.Answer = "closed"
	case m.Type == wire.MsgConnectFail:
		r.Answer = "CONNECTFAIL: " + decodeText(m)
	case m.Type == wire.MsgResult && m.Flags&wire.FlagException != 0:
		r.Answer = "exception: " + decodeText(m)
	default:
		r.Answer = m.Type.String() + ": " + decodeText(m)
		r.Accepted = true
	}
	return r, nil
}

func decodeText(m *wire.Message) string {
	cd := codec.Default(int(m.SerializerID))
	if cd == nil {
		return "(undecodable)"
	}
	v, err := cd.Unmarshal(m.Data)
	if err != nil {
		return "(undecodable: " + err.Error() + ")"
	}
	if e, ok := v.(*py.Exception); ok {
		return e.Class + ": " + e.Message()
	}
	return py.Repr(v)
}
