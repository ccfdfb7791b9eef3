package wire

import (
	"bytes"
	"errors"
	"testing"
)

// boundPair returns the client and server options of one connection.
func boundPair(key []byte) (client, server *Options) {
	cn, sn := bytes.Repeat([]byte{1}, BindNonceSize), bytes.Repeat([]byte{2}, BindNonceSize)
	return &Options{HMACKey: key, Binding: NewBinding(key, cn, sn, false)},
		&Options{HMACKey: key, Binding: NewBinding(key, cn, sn, true)}
}

func TestBindingRoundTrip(t *testing.T) {
	client, server := boundPair(secret)
	for i := 0; i < 3; i++ {
		m := &Message{Type: MsgInvoke, Seq: uint16(i + 1), SerializerID: 1, Data: []byte("call"),
			Annotations: []Annotation{{Key: "CORR", Value: []byte("0123456789abcdef")}}}
		b, err := AppendMessage(nil, m, client)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadMessage(bytes.NewReader(b), server)
		if err != nil || string(got.Data) != "call" {
			t.Fatalf("message %d: %v", i, err)
		}
		mac, _ := got.Annotation(AnnHMAC)
		if len(mac) != 32 {
			t.Errorf("MAC of %d bytes", len(mac))
		}
		r, _ := AppendMessage(nil, &Message{Type: MsgResult, Seq: got.Seq, SerializerID: 1, Data: []byte("ok")}, server)
		if _, err := ReadMessage(bytes.NewReader(r), client); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
}

// TestBindingRefuses: every way of reusing or changing a signed message is
// refused.
func TestBindingRefuses(t *testing.T) {
	msg := func() *Message {
		return &Message{Type: MsgInvoke, Flags: FlagOneway, Seq: 7, SerializerID: 1, Data: []byte("call"),
			Annotations: []Annotation{{Key: "CORR", Value: []byte("0123456789abcdef")}, {Key: "XTRA", Value: []byte("v")}}}
	}
	refused := func(t *testing.T, b []byte, o *Options) {
		t.Helper()
		if _, err := ReadMessage(bytes.NewReader(b), o); !errors.Is(err, ErrSecurity) {
			t.Errorf("accepted: %v", err)
		}
	}
	t.Run("replay on the same connection", func(t *testing.T) {
		client, server := boundPair(secret)
		b, _ := AppendMessage(nil, msg(), client)
		if _, err := ReadMessage(bytes.NewReader(b), server); err != nil {
			t.Fatal(err)
		}
		refused(t, b, server)
	})
	t.Run("replay on another connection", func(t *testing.T) {
		client, _ := boundPair(secret)
		b, _ := AppendMessage(nil, msg(), client)
		other := &Options{Binding: NewBinding(secret, bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{3}, 16), true)}
		refused(t, b, other)
	})
	t.Run("reordered", func(t *testing.T) {
		client, server := boundPair(secret)
		AppendMessage(nil, msg(), client)
		second, _ := AppendMessage(nil, msg(), client)
		refused(t, second, server)
	})
	t.Run("reflected to its sender", func(t *testing.T) {
		client, _ := boundPair(secret)
		b, _ := AppendMessage(nil, msg(), client)
		_, client2 := boundPair(secret)
		client2.Binding = NewBinding(secret, bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), false)
		refused(t, b, client2)
	})
	t.Run("wrong key", func(t *testing.T) {
		client, _ := boundPair(secret)
		_, server := boundPair([]byte("other"))
		b, _ := AppendMessage(nil, msg(), client)
		refused(t, b, server)
	})
	t.Run("no MAC", func(t *testing.T) {
		_, server := boundPair(secret)
		b, _ := AppendMessage(nil, msg(), nil)
		refused(t, b, server)
	})
	// header fields and annotation names, which Pyro4's HMAC leaves open
	for name, edit := range map[string]func(b []byte){
		"type changed":            func(b []byte) { b[7] = byte(MsgPing) },
		"flags changed":           func(b []byte) { b[9] = 0 },
		"seq changed":             func(b []byte) { b[11] = 8 },
		"serializer changed":      func(b []byte) { b[17] = 3 },
		"annotation name changed": func(b []byte) { copy(b[HeaderSize:], "CORX") },
		"annotation value":        func(b []byte) { b[HeaderSize+6] ^= 1 },
		"payload":                 func(b []byte) { b[len(b)-1] ^= 1 },
	} {
		t.Run(name, func(t *testing.T) {
			client, server := boundPair(secret)
			b, _ := AppendMessage(nil, msg(), client)
			edit(b)
			hd, _ := ParseHeader(b[:HeaderSize])
			// keep the header checksum right: only the MAC may object
			b = append(hd.AppendHeader(nil), b[HeaderSize:]...)
			refused(t, b, server)
		})
	}
}

// TestBindingCounterOnlyOnSuccess: a message that cannot be built does not
// consume a number, so the peers stay in step.
func TestBindingCounterOnlyOnSuccess(t *testing.T) {
	client, server := boundPair(secret)
	client.MaxMessageSize = 60 // the MAC chunk takes 38
	if _, err := AppendMessage(nil, &Message{Type: MsgInvoke, Data: make([]byte, 100)}, client); err == nil {
		t.Fatal("oversized message built")
	}
	b, err := AppendMessage(nil, &Message{Type: MsgInvoke, Data: []byte("ok")}, client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadMessage(bytes.NewReader(b), server); err != nil {
		t.Error(err)
	}
}
