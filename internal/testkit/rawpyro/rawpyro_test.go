package rawpyro_test

import (
	"bytes"
	"net"
	"testing"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/internal/testkit/rawpyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Split and Headers cut a recorded stream into its messages and leave an
// unfinished one out.
func TestSplit(t *testing.T) {
	var stream []byte
	for _, m := range []*wire.Message{rawpyro.ConnectMessage("thing"), rawpyro.Invoke(codec.IDJSON, 7, "thing", "echo", "x")} {
		b, err := wire.AppendMessage(nil, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...)
	}
	whole := len(stream)
	stream = append(stream, stream[:wire.HeaderSize+3]...)
	msgs := rawpyro.Split(t, stream)
	if len(msgs) != 2 || len(msgs[0])+len(msgs[1]) != whole {
		t.Fatalf("Split: %d messages", len(msgs))
	}
	hs := rawpyro.Headers(t, stream)
	if len(hs) != 2 || hs[0].Type != wire.MsgConnect || hs[0].Flags != wire.FlagMetaOnConnect ||
		hs[1].Type != wire.MsgInvoke || hs[1].Seq != 7 || hs[1].SerializerID != codec.IDJSON {
		t.Errorf("Headers: %+v", hs)
	}
	m, err := wire.ReadMessage(bytes.NewReader(msgs[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	call, err := codec.Default(codec.IDJSON).UnmarshalCall(m.Data)
	if err != nil || call.Object != "thing" || call.Method != "echo" || len(call.Args) != 1 || call.Args[0] != "x" {
		t.Errorf("Invoke encoded %+v, %v", call, err)
	}
}

// A conversation with a fake server: Connect, an exception answer,
// and Closed once the server hangs up.
func TestConn(t *testing.T) {
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() {
		defer server.Close()
		sc := rawpyro.Conn{T: t, NC: server}
		if _, err := wire.ReadMessage(server, nil); err != nil {
			done <- err
			return
		}
		ok, _ := codec.Default(codec.IDSerpent).Marshal("hello")
		if err := wire.WriteMessage(server, &wire.Message{Type: wire.MsgConnectOK, SerializerID: codec.IDSerpent, Data: ok}, nil); err != nil {
			done <- err
			return
		}
		if _, err := wire.ReadMessage(server, nil); err != nil {
			done <- err
			return
		}
		exc, _ := codec.Default(codec.IDSerpent).Marshal(&py.Exception{Class: "builtins.ValueError", Args: py.Tuple{"no"}})
		done <- sc.SendPayload(wire.MsgResult, 1, codec.IDSerpent, wire.FlagException, exc)
	}()
	c := rawpyro.New(t, client)
	c.Connect("")
	c.Send(rawpyro.Invoke(codec.IDSerpent, 1, "thing", "fail"))
	m, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if e := rawpyro.ExceptionOf(t, m); e.Class != "builtins.ValueError" || e.Message() != "no" {
		t.Errorf("exception %s: %s", e.Class, e.Message())
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !c.Closed() {
		t.Error("Closed = false after the server hung up")
	}
}
