package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// pyro5Frame is one line of testdata/pyro5_frames.jsonl: a frame made by
// Pyro5's SendingMessage and the fields it was made from.
type pyro5Frame struct {
	Name  string     `json:"name"`
	Frame string     `json:"frame"`
	Type  int        `json:"type"`
	Flags int        `json:"flags"`
	Seq   int        `json:"seq"`
	Ser   int        `json:"ser"`
	Data  string     `json:"data"`
	Corr  string     `json:"corr"`
	Anns  [][]string `json:"anns"`
	Error string     `json:"error"`
	Left  int        `json:"left"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFrameLines(t testing.TB, out string) []pyro5Frame {
	t.Helper()
	var fs []pyro5Frame
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var f pyro5Frame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		fs = append(fs, f)
	}
	return fs
}

// goldenFrames returns the committed frames of the real Pyro5
// (testdata/pyro5_frames.jsonl, written by testdata/pyro5_frames.py emit;
// TestPyro5FramesCurrent checks they are what Pyro5 makes).
func goldenFrames(t testing.TB) []pyro5Frame {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pyro5_frames.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return parseFrameLines(t, string(b))
}

// neutralOf502 is the test's own statement of how Pyro5's header bits map
// to Flags (kept apart from flagsFrom502, so that one checks the other).
func neutralOf502(w int, t MsgType) (f Flags, corr bool) {
	table := map[int]Flags{0x01: FlagException, 0x02: FlagCompressed, 0x04: FlagOneway, 0x08: FlagBatch,
		0x10: FlagItemStreamResult, 0x20: FlagKeepSerialized}
	for bit := 1; bit < 1<<16; bit <<= 1 {
		if w&bit == 0 {
			continue
		}
		switch n, ok := table[bit]; {
		case ok:
			f |= n
		case bit == 0x40:
			corr = true
		default:
			f |= Flags(bit)
		}
	}
	if t == MsgConnect || t == MsgConnectOK {
		f |= FlagMetaOnConnect
	}
	return f, corr
}

// pyro5Source returns the Pyro5 source tree of internal/pytest's Pyro5
// peer; without one the test is skipped, or fails when CI is set.
func pyro5Source(t testing.TB) string {
	t.Helper()
	return pytest.Pyro5(t).Source
}

// runPyro5Frames runs testdata/pyro5_frames.py with the given arguments.
func runPyro5Frames(t testing.TB, stdin string, args ...string) []pyro5Frame {
	t.Helper()
	src := pyro5Source(t)
	res := pytest.Cmd{Args: append([]string{filepath.Join("testdata", "pyro5_frames.py")}, args...),
		Env: []string{"PYTHONPATH=" + src}, Stdin: stdin}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("pyro5_frames.py %v: exit %d\n%s", args, res.ExitCode, res.Stderr)
	}
	return parseFrameLines(t, res.Stdout)
}

// TestPyro5Frames reads every frame the real Pyro5 made byte for byte:
// version, type, flags (translated), sequence, serializer, correlation id,
// annotations in order and the payload (inflated); then writes the same
// message and gets the same bytes (for compressed frames, whose deflate
// output depends on the zlib implementation, the same header and a
// payload that inflates to the same data).
func TestPyro5Frames(t *testing.T) {
	frames := goldenFrames(t)
	if len(frames) < 15 {
		t.Fatalf("only %d golden frames", len(frames))
	}
	for _, f := range frames {
		t.Run(f.Name, func(t *testing.T) {
			raw := unhex(t, f.Frame)
			m, err := ReadMessage(bytes.NewReader(raw), &Options{Protocol: Protocol502})
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			wantFlags, wantCorr := neutralOf502(f.Flags, MsgType(f.Type))
			if m.Version != Protocol502 || m.Type != MsgType(f.Type) || m.Flags != wantFlags ||
				m.Seq != uint16(f.Seq) || m.SerializerID != uint16(f.Ser) {
				t.Errorf("got version %d type %v flags %#x seq %d ser %d; want type %d flags %#x seq %d ser %d",
					m.Version, m.Type, m.Flags, m.Seq, m.SerializerID, f.Type, wantFlags, f.Seq, f.Ser)
			}
			if !bytes.Equal(m.Data, unhex(t, f.Data)) {
				t.Errorf("payload %x, want %s", m.Data, f.Data)
			}
			switch {
			case wantCorr != (m.CorrID != nil):
				t.Errorf("CorrID %x, want present=%v", m.CorrID, wantCorr)
			case f.Corr != "" && hex.EncodeToString(m.CorrID) != f.Corr:
				t.Errorf("CorrID %x, want %s", m.CorrID, f.Corr)
			}
			if len(m.Annotations) != len(f.Anns) {
				t.Fatalf("annotations %v, want %v", m.Annotations, f.Anns)
			}
			for i, a := range m.Annotations {
				if a.Key != f.Anns[i][0] || hex.EncodeToString(a.Value) != f.Anns[i][1] {
					t.Errorf("annotation %d: %s=%x, want %v", i, a.Key, a.Value, f.Anns[i])
				}
			}
			// the same message written again
			compressed := m.Flags&FlagCompressed != 0
			back, err := AppendMessage(nil, m, &Options{Protocol: Protocol502, Compress: compressed})
			if err != nil {
				t.Fatal(err)
			}
			if !compressed {
				if !bytes.Equal(back, raw) {
					t.Errorf("re-encoded differs:\n got %x\nwant %x", back, raw)
				}
				return
			}
			hd, err := ParseHeader502(back[:HeaderSize502])
			if err != nil || hd.Flags&FlagCompressed == 0 {
				t.Fatalf("re-encoded header: %+v, %v", hd, err)
			}
			// all but the payload length at 0x0c: same header, same chunks
			if !bytes.Equal(back[:12], raw[:12]) || !bytes.Equal(back[16:HeaderSize502+hd.AnnotationsLen], raw[16:HeaderSize502+hd.AnnotationsLen]) {
				t.Errorf("re-encoded header differs:\n got %x\nwant %x", back[:HeaderSize502+hd.AnnotationsLen], raw[:HeaderSize502+hd.AnnotationsLen])
			}
			again, err := ReadMessage(bytes.NewReader(back), &Options{Protocol: Protocol502})
			if err != nil || !bytes.Equal(again.Data, m.Data) {
				t.Errorf("re-encoded compressed frame reads back as %v", err)
			}
		})
	}
}

// TestPyro5FramesCurrent runs testdata/pyro5_frames.py against the Pyro5
// source and checks that the committed frames are what it makes now (the
// compressed ones by their header and inflated payload, since deflate's
// output may change with the zlib version).
func TestPyro5FramesCurrent(t *testing.T) {
	now := runPyro5Frames(t, "", "emit")
	golden := goldenFrames(t)
	if len(now) != len(golden) {
		t.Fatalf("Pyro5 made %d frames, %d committed", len(now), len(golden))
	}
	for i, f := range now {
		g := golden[i]
		if f.Name != g.Name || f.Data != g.Data || f.Flags != g.Flags {
			t.Errorf("frame %d: Pyro5 made %s flags %d, committed %s flags %d", i, f.Name, f.Flags, g.Name, g.Flags)
			continue
		}
		if f.Flags&0x02 == 0 && f.Frame != g.Frame {
			t.Errorf("%s: Pyro5 made %s, committed %s", f.Name, f.Frame, g.Frame)
		}
	}
}

// pyro5Cases are messages written by pyrogo for Pyro5 to parse.
func pyro5Cases() map[string]*Message {
	corr := []byte("0123456789abcdef")
	big := bytes.Repeat([]byte("go wrote this; "), 200)
	return map[string]*Message{
		"connect":      {Type: MsgConnect, Flags: FlagMetaOnConnect, SerializerID: 1, Data: []byte("{'handshake':None}")},
		"connectok":    {Type: MsgConnectOK, Flags: FlagMetaOnConnect, SerializerID: 3, CorrID: corr, Data: []byte(`{"handshake":null,"meta":{}}`)},
		"connectfail":  {Type: MsgConnectFail, Seq: 1, SerializerID: 2, Data: []byte("\xfa\x04nope")},
		"invoke":       {Type: MsgInvoke, Seq: 7, SerializerID: 4, Data: []byte("\x94\xa3obj")},
		"annotations":  {Type: MsgInvoke, Seq: 8, SerializerID: 1, Data: []byte("x"), Annotations: []Annotation{{"XANN", []byte("v1")}, {"EMPT", nil}, {"BLBI", bytes.Repeat([]byte{9}, 300)}}},
		"exception":    {Type: MsgResult, Flags: FlagException, Seq: 9, SerializerID: 1, CorrID: corr, Data: []byte("{}")},
		"oneway_batch": {Type: MsgInvoke, Flags: FlagOneway | FlagBatch, Seq: 10, SerializerID: 1, Data: []byte("()")},
		"itemstream":   {Type: MsgResult, Flags: FlagException | FlagItemStreamResult, Seq: 11, SerializerID: 1, CorrID: corr, Data: []byte("{}"), Annotations: []Annotation{{"STRM", []byte("sid")}}},
		"keepser":      {Type: MsgInvoke, Flags: FlagKeepSerialized, Seq: 12, SerializerID: 1, Data: []byte("blob")},
		"ping":         {Type: MsgPing, SerializerID: PingSerializerID, Data: []byte("ping")},
		"compressed":   {Type: MsgResult, Seq: 13, SerializerID: 1, CorrID: corr, Data: big, Annotations: []Annotation{{"XANN", []byte("plain")}}},
		"seq_max":      {Type: MsgResult, Seq: 65535, SerializerID: 255, Data: nil},
	}
}

// TestPyro5ParsesOurFrames: frames pyrogo writes in 502 are read by the
// real Pyro5's recv_stub with every field as written, and nothing left
// over.
func TestPyro5ParsesOurFrames(t *testing.T) {
	cases := pyro5Cases()
	var in strings.Builder
	for name, m := range cases {
		b, err := AppendMessage(nil, m, &Options{Protocol: Protocol502, Compress: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		line, _ := json.Marshal(map[string]string{"name": name, "frame": hex.EncodeToString(b)})
		in.Write(line)
		in.WriteByte('\n')
	}
	got := runPyro5Frames(t, in.String(), "parse")
	if len(got) != len(cases) {
		t.Fatalf("Pyro5 parsed %d frames of %d", len(got), len(cases))
	}
	for _, g := range got {
		m := cases[g.Name]
		if g.Error != "" {
			t.Errorf("%s: Pyro5: %s", g.Name, g.Error)
			continue
		}
		// Pyro5 clears FLAGS_COMPRESSED once it has inflated the payload
		flags, corr := neutralOf502(g.Flags, MsgType(g.Type))
		want := m.Flags &^ FlagCompressed
		if m.Type == MsgConnect || m.Type == MsgConnectOK {
			want |= FlagMetaOnConnect
		}
		if g.Type != int(m.Type) || flags != want || g.Seq != int(m.Seq) || g.Ser != int(m.SerializerID) || g.Left != 0 {
			t.Errorf("%s: Pyro5 read %+v", g.Name, g)
		}
		if g.Data != hex.EncodeToString(m.Data) {
			t.Errorf("%s: Pyro5 read payload %s", g.Name, g.Data)
		}
		wantCorr := strings.Repeat("00", 16)
		if m.CorrID != nil {
			wantCorr = hex.EncodeToString(m.CorrID)
		}
		if corr != (m.CorrID != nil) || g.Corr != wantCorr {
			t.Errorf("%s: Pyro5 read corr %s (flag %v)", g.Name, g.Corr, corr)
		}
		if len(g.Anns) != len(m.Annotations) {
			t.Errorf("%s: Pyro5 read annotations %v", g.Name, g.Anns)
			continue
		}
		for i, a := range m.Annotations {
			if g.Anns[i][0] != a.Key || g.Anns[i][1] != hex.EncodeToString(a.Value) {
				t.Errorf("%s: annotation %d read as %v", g.Name, i, g.Anns[i])
			}
		}
	}
}
