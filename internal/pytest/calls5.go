package pytest

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// Step5 is one step of testdata/interop5/pycall5.py, the Python Pyro5
// client runner; the script's doc comment says what each field does.
// Python expressions (Args, Kwargs, Value, Handshake, Equals) are test
// data: ListLiteral helps to write them.
type Step5 struct {
	Name          string            `json:"name,omitempty"`
	Op            string            `json:"op,omitempty"` // call (default), getattr, setattr, batch, stream, metadata, bind, wait, locate_ns, resolve
	URI           string            `json:"uri,omitempty"`
	Method        string            `json:"method,omitempty"`
	Args          string            `json:"args,omitempty"`
	Kwargs        string            `json:"kwargs,omitempty"`
	Attr          string            `json:"attr,omitempty"`
	Value         string            `json:"value,omitempty"`
	Batch         []Step5           `json:"batch,omitempty"`
	Oneway        bool              `json:"oneway,omitempty"`
	Take          int               `json:"take,omitempty"` // stream: items to take, then close (0: all)
	CheckClosed   bool              `json:"check_closed,omitempty"`
	Equals        string            `json:"equals,omitempty"`
	Bound         float64           `json:"bound,omitempty"`
	Follow        *Step5            `json:"follow,omitempty"`
	Proxy         string            `json:"proxy,omitempty"`
	Serializer    string            `json:"serializer,omitempty"`
	Timeout       float64           `json:"timeout,omitempty"`
	Handshake     string            `json:"handshake,omitempty"`
	Passphrase    string            `json:"passphrase,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	Host          string            `json:"host,omitempty"`
	Port          int               `json:"port,omitempty"`
	Broadcast     *bool             `json:"broadcast,omitempty"`
}

// Result5 is what pycall5.py reports for a step. Value, Args, Items and
// Handshake are canonical forms: JSON arrays naming the Python type,
// e.g. ["int", "3"], ["str", "a"], ["list", [...]], ["dict", [[k, v]...]]
// (sorted), ["bytes", "<hex>"], ["proxy", "<object id or obj_*>"].
type Result5 struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Type is the Python class of the result (ok) as module.qualname.
	Type  string `json:"type,omitempty"`
	Value any    `json:"value,omitempty"`
	// Class, Message and Args describe the exception (not ok); Remote
	// says it came with a remote traceback, whose last line is
	// TracebackTail.
	Class         string `json:"class,omitempty"`
	Message       string `json:"message,omitempty"`
	Args          any    `json:"args,omitempty"`
	Remote        bool   `json:"remote,omitempty"`
	TracebackTail string `json:"traceback_tail,omitempty"`
	// Items are the stream items received before a stream's error.
	Items any `json:"items,omitempty"`
	// Followed are the results of Step5.Follow on each proxy in Value.
	Followed []Result5 `json:"followed,omitempty"`
	// AfterClose is Pyro.Daemon's answer for a stream closed early.
	AfterClose          *Result5          `json:"after_close,omitempty"`
	Handshake           any               `json:"handshake,omitempty"`
	ResponseAnnotations map[string]string `json:"response_annotations,omitempty"`
	// Flags are the header flags of the step's last reply.
	Flags int `json:"flags,omitempty"`
}

// ValueJSON returns Value as compact JSON, for comparisons.
func (r Result5) ValueJSON() string { return compactJSON(r.Value) }

// ArgsJSON returns Args as compact JSON, for comparisons.
func (r Result5) ArgsJSON() string { return compactJSON(r.Args) }

// String describes the result briefly, for test messages.
func (r Result5) String() string {
	if r.OK {
		return r.Name + ": " + r.Type + " " + r.ValueJSON()
	}
	return r.Name + ": " + r.Class + ": " + r.Message
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// Calls5Script is the path of the Python Pyro5 client runner.
func Calls5Script() string {
	return filepath.Join(ModuleRoot(), "testdata", "interop5", "pycall5.py")
}

// Server5Script is the path of the Python Pyro5 test server.
func Server5Script() string {
	return filepath.Join(ModuleRoot(), "testdata", "interop5", "pyserver5.py")
}

// RunCalls5 runs steps in one Python Pyro5 client process
// (testdata/interop5/pycall5.py) with serializer as the default
// serializer and env as extra PYRO_* settings, and returns one result
// per step. It fails the test if the script does not report them all.
func RunCalls5(t testing.TB, serializer string, steps []Step5, env ...string) []Result5 {
	t.Helper()
	in, err := json.Marshal(map[string]any{"serializer": serializer, "steps": steps})
	if err != nil {
		t.Fatal(err)
	}
	res := Cmd{Args: []string{Calls5Script()}, Stdin: string(in), Env: env, Pyro5: true}.Run(t)
	var out struct {
		Serializer string    `json:"serializer"`
		Results    []Result5 `json:"results"`
	}
	if res.ExitCode != 0 || json.Unmarshal([]byte(res.Stdout), &out) != nil || len(out.Results) != len(steps) ||
		out.Serializer != serializer {
		t.Fatalf("pycall5.py exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	return out.Results
}

// Server5 is a running testdata/interop5/pyserver5.py.
type Server5 struct {
	*Server
	// URIs maps each daemon (plain, unix, abstract, tls, passphrase) to
	// the URI of its "thing"; its "typed" is at the same address.
	URIs map[string]string
}

// StartServer5 runs testdata/interop5/pyserver5.py with its arguments
// (TMPDIR ABSTRACTNAME [--tls CERTDIR [--mutual]] [--passphrase]) and the
// extra settings env, and returns it once it is serving. It stops with
// the test.
func StartServer5(t testing.TB, args []string, env ...string) *Server5 {
	t.Helper()
	s := Cmd{Args: append([]string{Server5Script()}, args...), Env: env, Pyro5: true}.Start(t)
	out := &Server5{Server: s}
	if err := json.Unmarshal([]byte(s.Ready), &out.URIs); err != nil {
		t.Fatalf("pyserver5.py READY line %q: %v", s.Ready, err)
	}
	return out
}
