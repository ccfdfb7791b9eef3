package codec_test

import (
	"errors"
	"fmt"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// A client encodes an INVOKE payload with the serializer it announced; the
// server decodes it with the codec for the id in the message header.
func Example() {
	c, err := codec.ForName("serpent", codec.Options{})
	if err != nil {
		panic(err)
	}
	payload, err := c.MarshalCall(&codec.Call{
		Object: "test.echoserver",
		Method: "echo",
		Args:   []any{"hello", int64(42)},
		Kwargs: py.DictOf("upper", true),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", payload)

	server, _ := codec.ForID(codec.IDSerpent, codec.Options{})
	call, err := server.UnmarshalCall(payload)
	if err != nil {
		panic(err)
	}
	upper, _ := call.Kwargs.GetString("upper")
	fmt.Println(call.Object, call.Method, call.Args, upper)
	// Output:
	// # serpent utf-8 python3.2
	// ('test.echoserver','echo',('hello',42),{'upper':True})
	// test.echoserver echo [hello 42] true
}

// Pickle-based serializers are refused: decoding them runs code.
func ExampleForID() {
	_, err := codec.ForID(codec.IDPickle, codec.Options{})
	fmt.Println(errors.Is(err, codec.ErrRefused))
	_, err = codec.ForName("yaml", codec.Options{})
	fmt.Println(errors.Is(err, codec.ErrUnknown), err)
	// Output:
	// true
	// true serializer "yaml" is unknown or not available
}

// Results that are exceptions come back as *py.Exception.
func ExampleCodec_Unmarshal() {
	c := codec.Default(codec.IDJSON)
	v, err := c.Unmarshal([]byte(`{"__class__": "builtins.ValueError", "__exception__": true, "args": ["bad value", 12], "attributes": {}}`))
	if err != nil {
		panic(err)
	}
	e := v.(*py.Exception)
	fmt.Println(e.Class, e.Error())
	// Output:
	// builtins.ValueError ValueError: ('bad value', 12)
}
