package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func raw502(flags502 uint16, anns []byte, payload []byte) []byte {
	return append(append(header502Bytes(4, 1, flags502, 0, uint32(len(payload)), uint32(len(anns)), nil), anns...), payload...)
}

// TestMemory502: 502 input has the guarantees of 48: a large payload read
// costs at most 1.5 times its size, a lying length at most twice what was
// sent, a zip bomb one bounded buffer, and annotations at most their
// bound, however large the header's 32-bit fields.
func TestMemory502(t *testing.T) {
	o := &Options{Protocol: Protocol502, MaxMessageSize: 64 << 20}
	t.Run("plain 8 MiB", func(t *testing.T) {
		payload := bytes.Repeat([]byte("0123456789abcdef"), 512<<10)
		in := raw502(0, nil, payload)
		got := allocOf(func() {
			m, err := ReadMessage(bytes.NewReader(in), o)
			if err != nil || len(m.Data) != len(payload) {
				t.Fatalf("read: %v", err)
			}
		})
		if limit := uint64(len(payload))*3/2 + 64<<10; got > limit {
			t.Errorf("allocated %d bytes for %d (%.2f×)", got, len(payload), float64(got)/float64(len(payload)))
		}
		t.Logf("plain %d bytes: allocated %.2f×", len(payload), float64(got)/float64(len(payload)))
	})
	t.Run("lying length", func(t *testing.T) {
		in := append(header502Bytes(4, 1, 0, 0, 0xffffffff>>1, 0, nil), make([]byte, 1<<20)...)
		b := &recBudget{}
		var err error
		got := allocOf(func() { _, err = ReadMessage(bytes.NewReader(in), &Options{Protocol: Protocol502, Budget: b}) })
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err %v", err)
		}
		if got > 2<<20+64<<10 || b.peak > 2<<20 || b.held != 0 {
			t.Errorf("allocated %d, peak charge %d, left %d for 1 MiB sent", got, b.peak, b.held)
		}
	})
	t.Run("zip bomb", func(t *testing.T) {
		bomb := zlibOf(t, make([]byte, 1<<20), 32)
		in := raw502(0x02, nil, bomb)
		var err error
		got := allocOf(func() {
			_, err = ReadMessage(bytes.NewReader(in), &Options{Protocol: Protocol502, MaxMessageSize: 8 << 20})
		})
		if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "message too large (") || !strings.HasSuffix(err.Error(), ", max=8388608)") {
			t.Fatalf("err %v", err)
		}
		if want := uint64(len(bomb)) + 1<<20 + 256<<10; got > want {
			t.Errorf("the bomb cost %d bytes, want at most %d", got, want)
		}
	})
	t.Run("annotations", func(t *testing.T) {
		// the most annotation bytes a 502 header can make us hold: the
		// bound, in as many chunks as allowed
		anns := bytes.Repeat(append([]byte("XANN\x00\x00\x00\xf7"), make([]byte, 247)...), MaxAnnotationCount)
		in := raw502(0, anns, []byte("x"))
		var m *Message
		got := allocOf(func() {
			var err error
			if m, err = ReadMessage(bytes.NewReader(in), &Options{Protocol: Protocol502}); err != nil {
				t.Fatal(err)
			}
		})
		if len(m.Annotations) != MaxAnnotationCount {
			t.Fatalf("%d annotations", len(m.Annotations))
		}
		if got > 2*MaxAnnotations502+64<<10 {
			t.Errorf("%d bytes of annotations cost %d", len(anns), got)
		}
		t.Logf("%d annotation bytes in %d chunks: allocated %d", len(anns), MaxAnnotationCount, got)
	})
	t.Run("budget", func(t *testing.T) {
		big := bytes.Repeat([]byte("y"), 3<<20)
		for _, compress := range []bool{false, true} {
			in, err := AppendMessage(nil, &Message{Type: MsgInvoke, CorrID: make([]byte, 16), Annotations: []Annotation{{"XANN", []byte("v")}}, Data: big},
				&Options{Protocol: Protocol502, Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			b := &recBudget{}
			m, err := ReadMessage(bytes.NewReader(in), &Options{Protocol: Protocol502, Budget: b})
			if err != nil || !bytes.Equal(m.Data, big) || m.Held() != b.held || b.held < len(big) {
				t.Fatalf("compress=%v: %v, held %d, budget %d", compress, err, m.Held(), b.held)
			}
			for _, limit := range []int{1, 100, len(big) / 3, b.peak - 1} {
				rb := &recBudget{refuseAfter: limit}
				if _, err := ReadMessage(bytes.NewReader(in), &Options{Protocol: Protocol502, Budget: rb}); !errors.Is(err, errRefused) || rb.held != 0 {
					t.Errorf("compress=%v refuse after %d: %v, %d left charged", compress, limit, err, rb.held)
				}
			}
		}
	})
}
