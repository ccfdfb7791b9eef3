package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"github.com/pyrogo/pyro/internal/testbound"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var secret = []byte("secretkey")

type dump struct {
	file   string
	typ    MsgType
	flags  Flags
	seq    uint16
	ser    uint16
	keyed  bool
	anns   []string // annotation keys in order
	prefix string   // start of the payload
}

var dumps = []dump{
	{"11.1_01_connect.bin", MsgConnect, FlagMetaOnConnect, 0, 1, false, nil, "# serpent utf-8 python3.2\n{'handshake':'hello'"},
	{"11.1_02_connectok.bin", MsgConnectOK, FlagMetaOnConnect, 0, 1, false, []string{"CORR"}, "# serpent"},
	{"11.1_03_invoke.bin", MsgInvoke, 0, 1, 1, false, nil, "# serpent utf-8 python3.2\n('Pyro.NameServer','lookup'"},
	{"11.1_04_result.bin", MsgResult, 0, 1, 1, false, []string{"CORR"}, "# serpent"},
	{"11.2_05_connect.bin", MsgConnect, FlagMetaOnConnect, 0, 2, false, nil, `{"handshake": "hello"`},
	{"11.2_06_connectok.bin", MsgConnectOK, FlagMetaOnConnect, 0, 2, false, []string{"CORR"}, `{"handshake"`},
	{"11.2_07_invoke.bin", MsgInvoke, 0, 1, 2, false, nil, `{"object": "Pyro.NameServer"`},
	{"11.2_08_result.bin", MsgResult, 0, 1, 2, false, []string{"CORR"}, `{"__class__": "Pyro4.core.URI"`},
	{"11.3_09_connect.bin", MsgConnect, FlagMetaOnConnect, 0, 1, true, []string{"HMAC"}, "# serpent"},
	{"11.3_10_connectok.bin", MsgConnectOK, FlagMetaOnConnect, 0, 1, true, []string{"CORR", "HMAC"}, "# serpent"},
	{"11.3_11_invoke.bin", MsgInvoke, 0, 1, 1, true, []string{"HMAC"}, "# serpent"},
	{"11.3_12_result.bin", MsgResult, 0, 1, 1, true, []string{"CORR", "HMAC"}, "# serpent"},
	{"11.4_13_connect.bin", MsgConnect, FlagMetaOnConnect, 0, 6, false, nil, "\x82\xa9handshake"},
	{"11.4_14_connectfail.bin", MsgConnectFail, 0, 0, 3, false, nil, "\xfa/message used serializer that is not accepted: 6"},
	{"11.4_15_connectfail.bin", MsgConnectFail, 0, 0, 3, true, []string{"HMAC"}, "\xfa\x1dhmac key config not symmetric"},
	{"11.5_16_ping.bin", MsgPing, 0, 0, 42, false, nil, "ping"},
	{"11.5_17_ping.bin", MsgPing, 0, 0, 42, false, []string{"CORR"}, "pong"},
	{"11.6_18_invoke.bin", MsgInvoke, 0, 1, 3, false, nil, "\x29\x04\xfa\x0fPyro.NameServer"},
	{"11.6_19_result.bin", MsgResult, 0, 1, 3, false, []string{"CORR"}, "{\xda\x09__class__"},
	{"11.7_20_invoke.bin", MsgInvoke, 0, 1, 6, true, []string{"HMAC"}, "\x94\xafPyro.NameServer"},
	{"11.7_21_result.bin", MsgResult, 0, 1, 6, true, []string{"CORR", "HMAC"}, "\x82\xa9__class__"},
}

func readDump(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHexDumps parses every captured Pyro4 message of the protocol doc §11
// and writes it back byte for byte (with the HMAC key where the capture
// had one, recomputing the signature).
func TestHexDumps(t *testing.T) {
	for _, d := range dumps {
		t.Run(d.file, func(t *testing.T) {
			raw := readDump(t, d.file)
			o := &Options{}
			if d.keyed {
				o.HMACKey = secret
			}
			m, err := ReadMessage(bytes.NewReader(raw), o)
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if m.Type != d.typ || m.Flags != d.flags || m.Seq != d.seq || m.SerializerID != d.ser {
				t.Errorf("got type %v flags %#x seq %d ser %d", m.Type, m.Flags, m.Seq, m.SerializerID)
			}
			var keys []string
			for _, a := range m.Annotations {
				keys = append(keys, a.Key)
			}
			if strings.Join(keys, ",") != strings.Join(d.anns, ",") {
				t.Errorf("annotations %v, want %v", keys, d.anns)
			}
			if !strings.HasPrefix(string(m.Data), d.prefix) {
				t.Errorf("payload %q does not start with %q", m.Data, d.prefix)
			}
			back, err := AppendMessage(nil, m, o)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, raw) {
				t.Errorf("re-encoded differs:\n got %x\nwant %x", back, raw)
			}
			if d.keyed {
				// the wrong key, and no key, are refused with Pyro's texts
				_, err := ReadMessage(bytes.NewReader(raw), &Options{HMACKey: []byte("other")})
				if !errors.Is(err, ErrSecurity) || err.Error() != MsgHMACMismatch {
					t.Errorf("wrong key: %v", err)
				}
				_, err = ReadMessage(bytes.NewReader(raw), &Options{})
				if !errors.Is(err, ErrSecurity) || err.Error() != MsgHMACSymmetry {
					t.Errorf("no key: %v", err)
				}
			} else {
				_, err := ReadMessage(bytes.NewReader(raw), &Options{HMACKey: secret})
				if !errors.Is(err, ErrSecurity) || err.Error() != MsgHMACSymmetry {
					t.Errorf("key on unsigned message: %v", err)
				}
			}
		})
	}
}

// TestHMACVectors checks the test vectors of the protocol doc §1.7.
func TestHMACVectors(t *testing.T) {
	connect, _ := ReadMessage(bytes.NewReader(readDump(t, "11.3_09_connect.bin")), &Options{HMACKey: secret})
	if got := hex.EncodeToString(ComputeHMAC(secret, connect.Data, nil)); got != "6d00afdec5956694e1628f74ae0402c757f9ec1e" {
		t.Errorf("CONNECT hmac %s", got)
	}
	result, _ := ReadMessage(bytes.NewReader(readDump(t, "11.3_12_result.bin")), &Options{HMACKey: secret})
	corr, _ := result.Annotation(AnnCorr)
	if hex.EncodeToString(corr) != "25bfe2929a4747fdb360f482c5dc1e27" {
		t.Fatalf("CORR %x", corr)
	}
	if got := hex.EncodeToString(ComputeHMAC(secret, result.Data, result.Annotations)); got != "008d3585dd33dba17c72bbc161849f554bf7bf0c" {
		t.Errorf("RESULT hmac %s", got)
	}
	// values are taken sorted by key: payload ‖ AAAA ‖ ZZZZ
	a := ComputeHMAC(secret, []byte("p"), []Annotation{{"ZZZZ", []byte("abc")}, {"AAAA", []byte("123")}})
	b := ComputeHMAC(secret, []byte("p123abc"), nil)
	if !bytes.Equal(a, b) {
		t.Error("annotation values not sorted by key")
	}
}

func TestChecksumExample(t *testing.T) {
	hd := Header{Type: MsgConnect, Flags: FlagMetaOnConnect, PayloadLen: 74, SerializerID: 1}
	if hd.checksum() != 0x3575 {
		t.Errorf("checksum %#x, want 0x3575", hd.checksum())
	}
}

func header(typ MsgType, flags Flags, payload, anns int) []byte {
	return Header{Type: typ, Flags: flags, PayloadLen: payload, SerializerID: 1, AnnotationsLen: anns}.AppendHeader(nil)
}

// TestHostileFrames: malformed input gets Pyro's error, quickly, without
// allocating what the header claims.
func TestHostileFrames(t *testing.T) {
	valid := readDump(t, "11.1_03_invoke.bin")
	badVersion := append([]byte{}, valid...)
	badVersion[5] = 47
	badSum := append([]byte{}, valid...)
	badSum[23] ^= 1
	huge := append(header(MsgInvoke, 0, 1<<31-1, 0), "0123456789"...)
	tests := []struct {
		name string
		in   []byte
		opts Options
		want error
		text string
	}{
		{"empty", nil, Options{}, ErrClosed, ""},
		{"short header", valid[:10], Options{}, ErrProtocol, "header data size mismatch"},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Options{}, ErrProtocol, MsgBadVersion},
		{"wrong version", badVersion, Options{}, ErrProtocol, MsgBadVersion},
		{"bad checksum", badSum, Options{}, ErrProtocol, MsgChecksum},
		{"2 GiB claimed, 10 bytes sent", huge, Options{}, ErrClosed, ""},
		{"over the size limit", huge, Options{MaxMessageSize: 1 << 20}, ErrTooLarge, "max message size exceeded (2147483647 where max=1048576)"},
		{"truncated payload", valid[:len(valid)-3], Options{}, ErrClosed, ""},
		{"truncated annotations", append(header(MsgInvoke, 0, 0, 30), "CORR\x00\x10abc"...), Options{}, ErrClosed, ""},
		{"annotation chunk overruns", append(header(MsgInvoke, 0, 0, 8), "CORR\x00\x10ab"...), Options{}, ErrProtocol, `annotation "CORR" value truncated`},
		{"annotation chunk too short", append(header(MsgInvoke, 0, 0, 3), "COR"...), Options{}, ErrProtocol, "annotation chunk truncated"},
		{"bad zlib", append(header(MsgInvoke, FlagCompressed, 5, 0), "xxxxx"...), Options{}, ErrProtocol, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := ReadMessage(bytes.NewReader(tt.in), &tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("text %q, want %q", err.Error(), tt.text)
			}
			if d := time.Since(start); d > testbound.Scale(2*time.Second) {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestLyingLengthAllocation: a 2 GiB claim with ten bytes behind it costs
// about ten bytes, not two gigabytes.
func TestLyingLengthAllocation(t *testing.T) {
	in := append(header(MsgInvoke, 0, 1<<31-1, 0), "0123456789"...)
	allocs := testing.AllocsPerRun(5, func() {
		ReadMessage(bytes.NewReader(in), nil)
	})
	if allocs > 20 {
		t.Errorf("%v allocations", allocs)
	}
	before := totalAlloc()
	ReadMessage(bytes.NewReader(in), nil)
	if grown := totalAlloc() - before; grown > 8<<20 {
		t.Errorf("reading a lying header allocated %d bytes", grown)
	}
}

func TestCompression(t *testing.T) {
	payload := bytes.Repeat([]byte("abcdefgh"), 100)
	for _, compress := range []bool{false, true} {
		o := &Options{Compress: compress, HMACKey: secret}
		raw, err := AppendMessage(nil, &Message{Type: MsgInvoke, Seq: 7, SerializerID: 1, Data: payload}, o)
		if err != nil {
			t.Fatal(err)
		}
		hd, _ := ParseHeader(raw[:HeaderSize])
		if (hd.Flags&FlagCompressed != 0) != compress {
			t.Errorf("compress=%v: flags %#x", compress, hd.Flags)
		}
		if compress && !bytes.HasPrefix(raw[HeaderSize+hd.AnnotationsLen:], []byte{0x78, 0x9c}) {
			t.Error("not a zlib stream")
		}
		m, err := ReadMessage(bytes.NewReader(raw), o)
		if err != nil || !bytes.Equal(m.Data, payload) {
			t.Fatalf("round trip: %v", err)
		}
	}
	// small payloads and incompressible ones are sent plain
	raw, _ := AppendMessage(nil, &Message{Type: MsgInvoke, Data: []byte("short")}, &Options{Compress: true})
	if hd, _ := ParseHeader(raw[:HeaderSize]); hd.Flags&FlagCompressed != 0 {
		t.Error("short payload compressed")
	}
	// a zip bomb stops at the limit
	bomb := compress(make([]byte, 10<<20))
	in := append(header(MsgInvoke, FlagCompressed, len(bomb), 0), bomb...)
	if _, err := ReadMessage(bytes.NewReader(in), &Options{MaxDecompressedSize: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("zip bomb: %v", err)
	}
}

func TestWriteLimits(t *testing.T) {
	_, err := AppendMessage(nil, &Message{Type: MsgInvoke, Data: make([]byte, 3000)}, &Options{MaxMessageSize: 2000})
	if !errors.Is(err, ErrTooLarge) || err.Error() != "max message size exceeded (3000 where max=2000)" {
		t.Errorf("oversize write: %v", err)
	}
	_, err = AppendMessage(nil, &Message{Type: MsgInvoke, Annotations: []Annotation{{"TOOLONG", nil}}}, nil)
	if err == nil || err.Error() != "annotation key must be of length 4" {
		t.Errorf("bad key: %v", err)
	}
}

func TestAnnotationsRoundTrip(t *testing.T) {
	m := &Message{Type: MsgResult, Seq: 65535, SerializerID: 2, Data: []byte("x")}
	m.SetAnnotation("XANN", []byte("hello"))
	m.SetAnnotation("CORR", bytes.Repeat([]byte{1}, 16))
	m.SetAnnotation("XANN", []byte("again"))
	raw, err := AppendMessage(nil, m, &Options{HMACKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMessage(bytes.NewReader(raw), &Options{HMACKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Annotation("XANN"); string(v) != "again" || got.Seq != 65535 || len(got.Annotations) != 3 {
		t.Errorf("got %+v", got)
	}
	// flipping an annotation value under a valid MAC is detected
	i := bytes.Index(raw, []byte("again"))
	raw[i] = 'A'
	if _, err := ReadMessage(bytes.NewReader(raw), &Options{HMACKey: secret}); !errors.Is(err, ErrSecurity) {
		t.Errorf("tampered annotation: %v", err)
	}
}

// FuzzReadMessage reads arbitrary input as 48, as 502 and as either (a
// daemon's first message); what reads is written again in its protocol
// and must read back the same. Seeds: the Pyro4 captures, the real Pyro5
// frames and testdata/fuzz/FuzzReadMessage.
func FuzzReadMessage(f *testing.F) {
	for _, d := range dumps {
		f.Add(readDump(f, d.file))
	}
	for _, g := range goldenFrames(f) {
		f.Add(unhex(f, g.Frame))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, o := range []*Options{
			{},
			{HMACKey: secret, MaxMessageSize: 1 << 16},
			{Protocol: Protocol502, MaxMessageSize: 1 << 16},
			{AnyProtocol: true, MaxDecompressedSize: 1 << 20},
		} {
			m, err := ReadMessage(bytes.NewReader(in), o)
			if err != nil {
				var pe *ProtocolError
				if errors.As(err, &pe) && pe.BadVersion && pe.Msg == "" {
					t.Fatalf("version error without a text: %+v", pe)
				}
				continue
			}
			if m.Version != o.Protocol.or48() && !o.AnyProtocol {
				t.Fatalf("read a %v message with options for %v", m.Version, o.Protocol)
			}
			wo := &Options{Protocol: m.Version}
			if m.Version == Protocol48 {
				wo.HMACKey = o.HMACKey
			}
			out, err := AppendMessage(nil, m, wo)
			if err != nil {
				continue
			}
			m2, err := ReadMessage(bytes.NewReader(out), o)
			if err != nil {
				t.Fatalf("re-read: %v", err)
			}
			if m2.Version != m.Version || m2.Type != m.Type || m2.Seq != m.Seq || m2.SerializerID != m.SerializerID ||
				m2.Flags != m.Flags&^FlagCompressed || !bytes.Equal(m2.Data, m.Data) || !bytes.Equal(m2.CorrID, m.CorrID) {
				t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
			}
		}
		_, _ = io.Discard.Write(nil)
	})
}
