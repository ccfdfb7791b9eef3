package codec_test

import (
	"bytes"
	"testing"

	"github.com/pyrogo/pyro/codec"
)

// TestPyro5SameBytes re-encodes, with the Go Pyro5 codecs, what Go decoded
// from Pyro5's own payloads, and wants Pyro5's bytes back for the message
// shapes where both sides are deterministic: calls, exceptions, URIs,
// proxies, batch wrappers. So a Go daemon's answers and a Go proxy's
// calls are what a Python Pyro5 peer itself would send.
func TestPyro5SameBytes(t *testing.T) {
	needPython5(t)
	recs := runScript[pyDump](t, python5Cmd, "dump", nil)
	// Sets print in hash order in Python, so the cases holding them
	// (proxies' name lists with more than one name, set values) are left
	// out, and the calls whose vargs the corpus gives as a list (batch,
	// stream: a Go Call writes its Args as the tuple a normal call has,
	// which Pyro5 reads alike); so are msgpack times, which Go writes from a time.Time. marshal
	// is compared by value only: CPython's marshal flags and back-references
	// interned strings (FLAG_REF), which pyrogo's writer does not.
	shapes := map[string]bool{
		"exc_value": true, "exc_naming": true, "exc_extra": true, "exc_stopiteration": true, "error_classes": true,
		"batch_result": true, "uri_tcp": true, "uri_ipv6": true, "uri_unix": true, "uri_name": true,
		"uri_name_bare": true, "uri_meta": true, "uri_list": true,
		"call_echo": true, "call_nested": true, "call_noargs": true, "call_getattr": true, "call_setattr": true,
		"call_uri_arg": true, "call_unicode": true, "call_nsname": true,
		"call_ext": true,
	}
	n := 0
	for _, rec := range recs {
		if !shapes[rec.Name] || rec.Err != "" || rec.Ser == "marshal" {
			continue
		}
		label := rec.Name + "/" + rec.Ser
		c := mustCodec5(rec.Ser)
		var again []byte
		var err error
		if rec.Kind == "call" {
			var call *codec.Call
			if call, err = c.UnmarshalCall(rec.B64); err == nil {
				again, err = c.MarshalCall(call)
			}
		} else {
			var v any
			if v, err = c.Unmarshal(rec.B64); err == nil {
				again, err = c.Marshal(v)
			}
		}
		if err != nil {
			t.Errorf("%s: %v", label, err)
			continue
		}
		n++
		if !bytes.Equal(again, rec.B64) {
			t.Errorf("%s: Go writes other bytes than Pyro5\n Pyro5 %s\n Go    %s", label, payloadText(rec.B64), payloadText(again))
		}
	}
	if n == 0 {
		t.Fatal("no payloads compared")
	}
	t.Logf("%d Pyro5 payloads written back byte for byte", n)
}
