package pytest

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// nscCommands5 is the session NscSession5 runs: each entry is the
// arguments after "python -m Pyro5.nsc -n HOST -p PORT", and the stdin
// for removematching's confirmation.
var nscCommands5 = []struct {
	args  []string
	stdin string
}{
	{args: []string{"ping"}},
	{args: []string{"list"}},
	{args: []string{"register", "demo.a", "PYRO:a@example.org:1111"}},
	{args: []string{"register", "demo.b", "PYRO:b@example.org:2222"}},
	{args: []string{"register", "other.c", "PYRO:c@example.org:3333"}},
	{args: []string{"register", "demo.a", "PYRO:a2@example.org:1112"}},
	{args: []string{"register", "demo.bad", "not a uri"}},
	{args: []string{"setmeta", "demo.a", "red", "blue", "green"}},
	{args: []string{"setmeta", "demo.b", "red"}},
	{args: []string{"setmeta", "nope", "red"}},
	{args: []string{"lookup", "demo.a"}},
	{args: []string{"lookup", "demo.b"}},
	{args: []string{"list", "demo."}},
	{args: []string{"listmatching", `.*\.[bc]$`}},
	{args: []string{"listmatching", "("}},
	{args: []string{"yplookup_all", "red", "blue"}},
	{args: []string{"yplookup_any", "blue", "nothing"}},
	{args: []string{"yplookup_all", "nothing"}},
	{args: []string{"setmeta", "demo.a"}},
	{args: []string{"lookup", "demo.a"}},
	{args: []string{"remove", "demo.b"}},
	{args: []string{"remove", "demo.b"}},
	{args: []string{"lookup", "demo.b"}},
	{args: []string{"removematching", `demo\..*`}, stdin: "n\n"},
	{args: []string{"removematching", `demo\..*`}, stdin: "y\n"},
	{args: []string{"list"}},
}

var nscMetadata = regexp.MustCompile(`metadata: \{(.*)\}$`)

// NscSession5 runs Pyro5's name server tool (python -m Pyro5.nsc) against
// the name server at host:port, one process per command: ping, register,
// setmeta, lookup, list with a prefix and a regex, yplookup_all and
// yplookup_any, remove, removematching (refused, then confirmed), and
// errors (an unknown name, a bad URI, a bad regex). It returns the
// transcript: each command line ("$ nsc ..."), what nsc printed on stdout
// and its exit status when not 0; the name server's port is written
// <port> and the members of printed metadata sets are sorted, so that
// name servers can be compared. Standard error (Python tracebacks) is
// left out.
func NscSession5(t testing.TB, host string, port int, env ...string) string {
	t.Helper()
	p := strconv.Itoa(port)
	return NscTranscript5(host, port, func(args []string, stdin string) (string, int) {
		res := Cmd{
			Args:  append([]string{"-m", "Pyro5.nsc", "-n", host, "-p", p}, args...),
			Stdin: stdin, Env: env, Pyro5: true,
		}.Run(t)
		return res.Stdout, res.ExitCode
	})
}

// NscTranscript5 runs NscSession5's commands with another name server
// tool (such as pyro nsc): run gets each command's arguments (after the
// name server's location) and its stdin, and returns what the tool printed
// on stdout and its exit status. The transcript has NscSession5's form,
// comparable with Nsc5Golden.
func NscTranscript5(host string, port int, run func(args []string, stdin string) (stdout string, exit int)) string {
	var b strings.Builder
	p := strconv.Itoa(port)
	for _, c := range nscCommands5 {
		fmt.Fprintf(&b, "$ nsc %s\n", strings.Join(c.args, " "))
		stdout, exit := run(slices.Clone(c.args), c.stdin)
		for line := range strings.Lines(stdout) {
			line = strings.TrimRight(line, "\n")
			line = strings.ReplaceAll(line, host+":"+p, host+":<port>")
			if m := nscMetadata.FindStringSubmatchIndex(line); m != nil {
				items := strings.Split(line[m[2]:m[3]], ", ")
				slices.Sort(items)
				line = line[:m[2]] + strings.Join(items, ", ") + line[m[3]:]
			}
			b.WriteString(line + "\n")
		}
		if exit != 0 {
			fmt.Fprintf(&b, "(exit %d)\n", exit)
		}
	}
	return b.String()
}

// Nsc5Golden returns the golden transcript of NscSession5 against Pyro5's
// own name server (testdata/interop5/golden/nsc.txt).
func Nsc5Golden(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(nscGoldenPath())
	if err != nil {
		t.Fatalf("golden nsc transcript (record it with the Pyro5 peers' tests and -update): %v", err)
	}
	return string(data)
}

func nscGoldenPath() string {
	return strings.TrimSuffix(Golden5Path("nsc"), ".json") + ".txt"
}
