package wire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"testing"
)

// zlibOf compresses n repetitions of b (streaming, so a huge expansion
// costs the test no memory).
func zlibOf(t testing.TB, b []byte, n int) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	for i := 0; i < n; i++ {
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func rawMessage(flags Flags, payload []byte) []byte {
	return append(header(MsgInvoke, flags, len(payload), 0), payload...)
}

// allocOf returns the bytes allocated while f runs (the median of three
// runs, so a stray allocation elsewhere does not decide the result).
func allocOf(f func()) uint64 {
	var runs [3]uint64
	for i := range runs {
		before := totalAlloc()
		f()
		runs[i] = totalAlloc() - before
	}
	a, b, c := runs[0], runs[1], runs[2]
	return max(min(a, b), min(max(a, b), c))
}

// TestReadMemoryFactor: reading a message of N payload bytes allocates a
// small constant times N: at most 1.5 N (+ slack) for a plain payload,
// which is read in chunks until half of it has arrived and then into one
// exact buffer, and N plus at most 1 MiB for a compressed one, which is
// inflated into a bounded first buffer, counted, then inflated into an
// exact buffer. A buffer that doubles and copies costs 2–3 N.
func TestReadMemoryFactor(t *testing.T) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB, compresses well
	for _, n := range []int{1 << 20, 4 << 20, 16 << 20} {
		payload := bytes.Repeat(chunk, n/len(chunk))
		plain := rawMessage(0, payload)
		comp := rawMessage(FlagCompressed, zlibOf(t, chunk, n/len(chunk)))
		o := &Options{MaxMessageSize: 64 << 20}
		t.Run(fmt.Sprintf("plain %d MiB", n>>20), func(t *testing.T) {
			got := allocOf(func() {
				m, err := ReadMessage(bytes.NewReader(plain), o)
				if err != nil || len(m.Data) != n {
					t.Fatalf("read: %v", err)
				}
			})
			if limit := uint64(n)*3/2 + 64<<10; got > limit {
				t.Errorf("allocated %d bytes for a %d-byte payload (%.2f×), want at most %d", got, n, float64(got)/float64(n), limit)
			}
			t.Logf("plain %d bytes: allocated %.2f×", n, float64(got)/float64(n))
		})
		t.Run(fmt.Sprintf("compressed %d MiB", n>>20), func(t *testing.T) {
			got := allocOf(func() {
				m, err := ReadMessage(bytes.NewReader(comp), o)
				if err != nil || !bytes.Equal(m.Data, payload) {
					t.Fatalf("read: %v", err)
				}
			})
			if limit := uint64(n) + 1<<20 + uint64(len(comp)) + 256<<10; got > limit {
				t.Errorf("allocated %d bytes for a payload inflating to %d (%.2f×), want at most %d", got, n, float64(got)/float64(n), limit)
			}
			t.Logf("compressed %d bytes: allocated %.2f×", n, float64(got)/float64(n))
		})
	}
}

// TestZipBombMemory: a 32 KB payload that inflates to 32 MiB is refused
// at the limit having cost the first inflate buffer (≤ 1 MiB), not the
// limit and not the expansion.
func TestZipBombMemory(t *testing.T) {
	bomb := zlibOf(t, make([]byte, 1<<20), 32)
	t.Logf("bomb: %d bytes inflating to 32 MiB", len(bomb))
	in := rawMessage(FlagCompressed, bomb)
	for _, o := range []*Options{{MaxMessageSize: 8 << 20}, {MaxDecompressedSize: 4 << 20}} {
		limit := o.MaxMessageSize + o.MaxDecompressedSize
		var err error
		got := allocOf(func() {
			_, err = ReadMessage(bytes.NewReader(in), o)
		})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if want := uint64(len(bomb)) + 1<<20 + 256<<10; got > want {
			t.Errorf("limit %d: the bomb cost %d bytes, want at most %d", limit, got, want)
		}
	}
}

// recBudget is a Budget that records its balance and can refuse.
type recBudget struct {
	held, peak, calls int
	refuseAfter       int // refuse once held would pass it (0 = never)
}

var errRefused = errors.New("budget refused")

func (b *recBudget) Acquire(n int) error {
	if n <= 0 {
		panic("Acquire of a non-positive size")
	}
	b.calls++
	if b.refuseAfter > 0 && b.held+n > b.refuseAfter {
		return errRefused
	}
	b.held += n
	b.peak = max(b.peak, b.held)
	return nil
}

func (b *recBudget) Release(n int) {
	b.held -= n
	if b.held < 0 {
		panic("released more than acquired")
	}
}

// TestBudget: every allocation of a read is charged before it is made,
// what the message keeps is Held, a refusal stops the read with the
// budget's error and leaves nothing charged, and a failed read releases
// everything.
func TestBudget(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 3<<20)
	small := []byte("hello")
	bomb := zlibOf(t, make([]byte, 1<<20), 20)
	anns := []Annotation{{Key: "CORR", Value: bytes.Repeat([]byte{7}, 16)}}
	mk := func(payload []byte, compress bool) []byte {
		b, err := AppendMessage(nil, &Message{Type: MsgInvoke, Annotations: anns, Data: payload}, &Options{Compress: compress})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		in   []byte
		want int // payload size
	}{
		{"small", mk(small, false), len(small)},
		{"large", mk(big, false), len(big)},
		{"compressed", mk(big, true), len(big)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &recBudget{}
			before := totalAlloc()
			m, err := ReadMessage(bytes.NewReader(tc.in), &Options{Budget: b})
			allocated := totalAlloc() - before
			if err != nil || len(m.Data) != tc.want {
				t.Fatalf("read: %v", err)
			}
			if m.Held() != b.held || b.held < tc.want {
				t.Errorf("Held %d, budget holds %d, payload %d", m.Held(), b.held, tc.want)
			}
			// what was charged covers what was allocated (but for the
			// Message struct, the annotation slice and, on first use, a
			// pooled zlib reader of about 40 KiB)
			if uint64(b.peak)+64<<10 < allocated && tc.want > 4096 {
				t.Errorf("peak charge %d, allocated %d", b.peak, allocated)
			}
			b.Release(m.Held())
			// refusals at every point leave nothing charged
			for _, limit := range []int{1, 30, tc.want / 3, tc.want, b.peak - 1} {
				if limit <= 0 || limit >= b.peak {
					continue
				}
				rb := &recBudget{refuseAfter: limit}
				_, err := ReadMessage(bytes.NewReader(tc.in), &Options{Budget: rb})
				if !errors.Is(err, errRefused) {
					t.Errorf("refuse after %d: %v", limit, err)
				}
				if rb.held != 0 {
					t.Errorf("refuse after %d: %d bytes left charged", limit, rb.held)
				}
			}
		})
	}
	// failures release everything: truncated, over the limit, bad HMAC
	for name, tc := range map[string]struct {
		in []byte
		o  Options
	}{
		"truncated":     {mk(big, false)[:2<<20], Options{}},
		"zip bomb":      {rawMessage(FlagCompressed, bomb), Options{MaxMessageSize: 1 << 20}},
		"bad zlib":      {rawMessage(FlagCompressed, []byte("not zlib at all")), Options{}},
		"hmac mismatch": {mk(big, false), Options{HMACKey: secret}},
	} {
		b := &recBudget{}
		tc.o.Budget = b
		if _, err := ReadMessage(bytes.NewReader(tc.in), &tc.o); err == nil {
			t.Errorf("%s: no error", name)
		}
		if b.held != 0 || b.calls == 0 {
			t.Errorf("%s: %d bytes left charged after %d acquires", name, b.held, b.calls)
		}
	}
}

// TestLyingLargeLength: a header claiming 64 MiB followed by 1 MiB costs
// about two times what was sent, not what was claimed.
func TestLyingLargeLength(t *testing.T) {
	in := append(header(MsgInvoke, 0, 64<<20, 0), make([]byte, 1<<20)...)
	b := &recBudget{}
	var err error
	got := allocOf(func() { _, err = ReadMessage(bytes.NewReader(in), &Options{Budget: b}) })
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v", err)
	}
	if got > 2<<20+64<<10 || b.peak > 2<<20 || b.held != 0 {
		t.Errorf("allocated %d, peak charge %d, left %d for 1 MiB sent", got, b.peak, b.held)
	}
}

// TestTruncatedZlib: a zlib stream cut short is a protocol error, also
// when it breaks off exactly where a buffer ends.
func TestTruncatedZlib(t *testing.T) {
	full := zlibOf(t, bytes.Repeat([]byte("abc"), 1000), 1000)
	for _, cut := range []int{1, 3, 10, len(full) / 2, len(full) - 4, len(full) - 1} {
		_, err := ReadMessage(bytes.NewReader(rawMessage(FlagCompressed, full[:cut])), nil)
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("cut at %d of %d: %v", cut, len(full), err)
		}
	}
	for _, n := range []int{0, 1, 511, 512, 513, 4 << 10, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3 << 20} {
		data := bytes.Repeat([]byte{'q'}, n)
		m, err := ReadMessage(bytes.NewReader(rawMessage(FlagCompressed, zlibOf(t, data, 1))), nil)
		if err != nil || !bytes.Equal(m.Data, data) {
			t.Errorf("%d bytes: %v", n, err)
		}
		// exactly at the limit passes, one byte over does not
		if n > 1 {
			if _, err := ReadMessage(bytes.NewReader(rawMessage(FlagCompressed, zlibOf(t, data, 1))), &Options{MaxDecompressedSize: n}); err != nil {
				t.Errorf("%d bytes at limit %d: %v", n, n, err)
			}
			if _, err := ReadMessage(bytes.NewReader(rawMessage(FlagCompressed, zlibOf(t, data, 1))), &Options{MaxDecompressedSize: n - 1}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("%d bytes at limit %d: %v", n, n-1, err)
			}
		}
	}
}

// TestAppendFrame: head followed by payload is exactly AppendMessage's
// output, for plain, compressed, signed and bound messages, and the
// payload of an uncompressed message is not copied.
func TestAppendFrame(t *testing.T) {
	data := bytes.Repeat([]byte("pyro "), 1000)
	m := &Message{Type: MsgResult, Seq: 9, SerializerID: 1, Data: data, Annotations: []Annotation{{Key: "CORR", Value: make([]byte, 16)}}}
	for name, o := range map[string]func() *Options{
		"plain":      func() *Options { return &Options{} },
		"compressed": func() *Options { return &Options{Compress: true} },
		"hmac":       func() *Options { return &Options{HMACKey: secret, Compress: true} },
		"bound":      func() *Options { c, _ := boundPair(secret); return c },
	} {
		whole, err := AppendMessage(nil, m, o())
		if err != nil {
			t.Fatal(err)
		}
		head, payload, err := AppendFrame([]byte("prefix"), m, o())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(head[len("prefix"):], payload...), whole) || string(head[:6]) != "prefix" {
			t.Errorf("%s: frame differs from AppendMessage", name)
		}
		if name == "plain" && &payload[0] != &data[0] {
			t.Error("plain payload was copied")
		}
	}
	if _, _, err := AppendFrame(nil, &Message{Type: MsgResult, Data: make([]byte, 100)}, &Options{MaxMessageSize: 50}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize frame: %v", err)
	}
}

// TestCompressBounded: compressing incompressible data gives up without
// holding more than the input's size (its output buffer doubles, so it
// allocates less than twice that in all), and the result is sent plain.
func TestCompressBounded(t *testing.T) {
	noise := make([]byte, 1<<20)
	x := uint64(88172645463325252)
	for i := range noise {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		noise[i] = byte(x)
	}
	if c := compress(noise); c != nil {
		t.Errorf("incompressible data compressed to %d bytes", len(c))
	}
	got := allocOf(func() { compress(noise) })
	// plus, when the pool has dropped its compressor (it may, and does so
	// at random under the race detector), a new one of about 800 KiB
	if got > uint64(len(noise))*2+1<<20 {
		t.Errorf("giving up cost %d bytes for %d", got, len(noise))
	}
	raw, _ := AppendMessage(nil, &Message{Type: MsgResult, Data: noise}, &Options{Compress: true})
	hd, _ := ParseHeader(raw[:HeaderSize])
	if hd.Flags&FlagCompressed != 0 || hd.PayloadLen != len(noise) {
		t.Errorf("incompressible payload sent with flags %#x, length %d", hd.Flags, hd.PayloadLen)
	}
}
