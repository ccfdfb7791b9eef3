package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
	"github.com/pyrogo/pyro/naming"
)

// gwReply is what the differential test compares of an HTTP answer.
type gwReply struct {
	status   int
	ctype    string
	corr     string
	location string
	body     []byte
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var testClient = &http.Client{CheckRedirect: noRedirect, Timeout: testbound.Scale(60 * time.Second)}

// do sends one request to base and reads the answer.
func do(t testing.TB, base, method, path string, hdr map[string]string, ctype, body string) gwReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return gwReply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), corr: resp.Header.Get(headerCorr),
		location: resp.Header.Get("Location"), body: b}
}

// startPyGateway runs Pyro4's own gateway (python -m
// Pyro4.utils.httpgateway) for the name server ns, with extra env.
func startPyGateway(t testing.TB, ns *naming.Server, env ...string) string {
	t.Helper()
	return startPyGatewayArgs(t, ns, nil, env...)
}

// startPyGatewayArgs is startPyGateway with extra command line arguments.
func startPyGatewayArgs(t testing.TB, ns *naming.Server, args []string, env ...string) string {
	t.Helper()
	host, port := nsHostPort(ns)
	s := pytest.Cmd{
		Args:  append([]string{"-m", "Pyro4.utils.httpgateway", "-H", "127.0.0.1", "-p", "0"}, args...),
		Env:   append([]string{"PYRO_NS_HOST=" + host, "PYRO_NS_PORT=" + port}, env...),
		Ready: regexp.MustCompile(`^Pyro HTTP gateway running on (http://\S+)/pyro/`),
	}.Start(t)
	return s.Ready
}

func nsHostPort(ns *naming.Server) (string, string) {
	loc := ns.URI().Location()
	i := strings.LastIndexByte(loc, ':')
	return loc[:i], loc[i+1:]
}

// startPyObjects runs testdata/pyserver.py (http.thing, secret.thing).
func startPyObjects(t testing.TB, ns *naming.Server) {
	t.Helper()
	host, port := nsHostPort(ns)
	pytest.Start(t, "testdata/pyserver.py", host, port)
}

type diffCase struct {
	name   string
	method string
	path   string
	hdr    map[string]string
	ctype  string
	body   string
	keyed  bool // sent to the gateways with a gateway key
	nsOpen bool // sent to the gateways whose regex also exposes Pyro.NameServer
	meta   bool // a $meta answer: lists compared as sets (Pyro4 writes hash order)
	// differs says why the Go gateway answers differently on purpose;
	// then pyWant and goWant are "STATUS BODY" of each answer.
	differs        string
	pyWant, goWant string
}

const goodCorr = "11112222-1111-2222-3333-222244449999"

var diffCases = []diffCase{
	{name: "echo", path: "/pyro/http.thing/echo?message=hello"},
	{name: "echo escapes", path: "/pyro/http.thing/echo?message=h%41llo+w%2Brld%zz"},
	{name: "utf-8 parameter", path: "/pyro/http.thing/echo?message=h%C3%A9llo",
		differs: "Pyro4's cgi.parse decodes parameters as latin-1 (mojibake); the Go gateway as UTF-8",
		pyWant:  `200 "hÃ©llo"`, goWant: `200 "héllo"`},
	{name: "echo no params", path: "/pyro/http.thing/echo"},
	{name: "echo blank dropped", path: "/pyro/http.thing/echo?message=&x"},
	{name: "echo repeated", path: "/pyro/http.thing/echo?message=a&message=b"},
	{name: "non-ascii result", path: "/pyro/http.thing/greet?name=x"},
	{name: "add strings", path: "/pyro/http.thing/add?a=1&b=2"},
	{name: "missing arg", path: "/pyro/http.thing/add?a=1"},
	{name: "unexpected kwarg", path: "/pyro/http.thing/echo?nope=1"},
	{name: "kwargs order", path: "/pyro/http.thing/many?z=1&a=2&m=3"},
	{name: "post form", method: "POST", path: "/pyro/http.thing/echo", ctype: "application/x-www-form-urlencoded", body: "message=posted+form"},
	{name: "post form and query", method: "POST", path: "/pyro/http.thing/many?q=1", ctype: "application/x-www-form-urlencoded", body: "a=1&b=2&a=3"},
	{name: "post multipart", method: "POST", path: "/pyro/http.thing/many",
		ctype: "multipart/form-data; boundary=XyZ", body: "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nmulti\r\n--XyZ--\r\n",
		differs: "Pyro4's gateway crashes on multipart bodies under Python 3 (cgi.parse_multipart wants a bytes boundary)",
		pyWant:  "500 A server error occurred.  Please contact the administrator.", goWant: `200 {"a": "multi"}`},
	{name: "post other type", method: "POST", path: "/pyro/http.thing/echo?message=q", ctype: "text/plain", body: "message=ignored"},
	{name: "post json body ignored", method: "POST", path: "/pyro/http.thing/echo?message=q", ctype: "application/json", body: `{"message": bad json`},
	{name: "post form bad escapes", method: "POST", path: "/pyro/http.thing/many", ctype: "application/x-www-form-urlencoded", body: "a=%zz%&&=&b&c=%41+"},
	{name: "head", method: "HEAD", path: "/pyro/http.thing/echo"},
	{name: "nested floats", path: "/pyro/http.thing/nested"},
	{name: "meta", path: "/pyro/http.thing/$meta", meta: true},
	{name: "attribute", path: "/pyro/http.thing/value"},
	{name: "attribute with params", path: "/pyro/http.thing/value?x=1"},
	{name: "unknown method", path: "/pyro/http.thing/nosuch"},
	{name: "unknown name", path: "/pyro/http.nosuch/echo"},
	{name: "exception", path: "/pyro/http.thing/fail"},
	{name: "oneway by metadata", path: "/pyro/http.thing/fire?x=1"},
	{name: "oneway header", path: "/pyro/http.thing/echo?message=a", hdr: map[string]string{headerOptions: "oneway"}},
	{name: "oneway header attribute", path: "/pyro/http.thing/value", hdr: map[string]string{headerOptions: "x,oneway"}},
	{name: "correlation id", path: "/pyro/http.thing/echo?message=c", hdr: map[string]string{headerCorr: goodCorr}},
	{name: "correlation id braces", path: "/pyro/http.thing/echo?message=c", hdr: map[string]string{headerCorr: "{11112222111122223333222244449999}"}},
	{name: "bad correlation id", path: "/pyro/http.thing/echo?message=c", hdr: map[string]string{headerCorr: "nope"}},
	{name: "forbidden name", path: "/pyro/secret.thing/echo?message=x"},
	{name: "forbidden name server", path: "/pyro/Pyro.NameServer/list"},
	{name: "forbidden meta", path: "/pyro/secret.thing/$meta"},
	{name: "regex anchored at start only", path: "/pyro/xhttp.thing/echo"},
	{name: "encoded name", path: "/pyro/http%2Ething/echo?message=enc"},
	{name: "encoded forbidden", path: "/pyro/secret%2Ething/echo"},
	{name: "slash in name", path: "/pyro/http.thing/x/echo"},
	{name: "leading slashes", path: "//pyro/http.thing/echo?message=s"},
	{name: "redirect", path: "/"},
	{name: "redirect post", method: "POST", path: "/"},
	{name: "not found", path: "/foo/bar"},
	{name: "no method", path: "/pyro/http.thing"},
	{name: "no method slash", path: "/pyro/http.thing/"},
	{name: "put", method: "PUT", path: "/pyro/http.thing/echo"},
	{name: "delete outside", method: "DELETE", path: "/foo"},
	{name: "go daemon echo", path: "/pyro/http.gothing/echo?message=go"},
	{name: "go daemon meta", path: "/pyro/http.gothing/$meta", meta: true},
	{name: "correlation id reaches the daemon", path: "/pyro/http.gothing/corr", hdr: map[string]string{headerCorr: goodCorr}},
	{name: "go daemon exception", path: "/pyro/http.gothing/fail"},
	{name: "go daemon unknown kwarg", path: "/pyro/http.gothing/echo?x=1"},
	{name: "key missing", path: "/pyro/http.thing/echo?message=k", keyed: true},
	{name: "key wrong header", path: "/pyro/http.thing/echo?message=k", keyed: true, hdr: map[string]string{headerKey: "wrong"}},
	{name: "key header", path: "/pyro/http.thing/many?m=k", keyed: true, hdr: map[string]string{headerKey: "s3cr3t"}},
	{name: "key param", path: "/pyro/http.thing/many?m=k&$key=s3cr3t", keyed: true},
	{name: "key param post", method: "POST", path: "/pyro/http.thing/many", keyed: true, ctype: "application/x-www-form-urlencoded", body: "%24key=s3cr3t&m=p"},
	{name: "key wrong param", path: "/pyro/http.thing/many?$key=nope", keyed: true},
	{name: "key before regex", path: "/pyro/secret.thing/echo", keyed: true},
	{name: "key right, forbidden", path: "/pyro/secret.thing/echo", keyed: true, hdr: map[string]string{headerKey: "s3cr3t"}},
	{name: "no key needed, $key passed on", path: "/pyro/http.thing/many?$key=x"},
	// Pyro4's examples/http/client.py calls the name server through the gateway
	{name: "name server list", path: "/pyro/Pyro.NameServer/list", nsOpen: true},
	{name: "name server list prefix", path: "/pyro/Pyro.NameServer/list?prefix=http.", nsOpen: true},
	{name: "name server meta", path: "/pyro/Pyro.NameServer/$meta", nsOpen: true, meta: true},
	{name: "name server lookup", path: "/pyro/Pyro.NameServer/lookup?name=Pyro.NameServer", nsOpen: true},
	{name: "name server ping", path: "/pyro/Pyro.NameServer/ping", nsOpen: true},
	{name: "name server, regex $", path: "/pyro/Pyro.NameServerX/ping", nsOpen: true},
}

// TestDiffPyro4Gateway sends the same requests to Pyro4's own gateway and
// to the Go gateway, both over one Go name server with a Pyro4 daemon
// (testdata/pyserver.py) and a Go daemon behind them, and compares status
// codes, content types, correlation ids and bodies byte for byte.
func TestDiffPyro4Gateway(t *testing.T) {
	pytest.Python(t)
	ns := startNS(t)
	startPyObjects(t, ns)
	startGoDaemon(t, ns, "http.gothing")
	pyPlain := startPyGateway(t, ns)
	pyKeyed := startPyGateway(t, ns, "PYRO_HTTPGATEWAY_KEY=s3cr3t")
	_, goPlain := startGateway(t, ns)
	_, goKeyed := startGateway(t, ns, WithGatewayKey([]byte("s3cr3t")))
	const nsRegex = `Pyro\.NameServer$|http\.`
	pyNS := startPyGatewayArgs(t, ns, []string{"-e", nsRegex})
	_, goNS := startGateway(t, ns, WithExpose(nsRegex))
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			m := c.method
			if m == "" {
				m = "GET"
			}
			pyBase, goBase := pyPlain, goPlain
			if c.keyed {
				pyBase, goBase = pyKeyed, goKeyed
			}
			if c.nsOpen {
				pyBase, goBase = pyNS, goNS
			}
			want := do(t, pyBase, m, c.path, c.hdr, c.ctype, c.body)
			got := do(t, goBase, m, c.path, c.hdr, c.ctype, c.body)
			if c.differs != "" {
				t.Logf("known difference: %s", c.differs)
				if s := strconv.Itoa(want.status) + " " + string(want.body); s != c.pyWant {
					t.Errorf("Pyro4 answered %s, want %s", s, c.pyWant)
				}
				if s := strconv.Itoa(got.status) + " " + string(got.body); s != c.goWant {
					t.Errorf("Go answered %s, want %s", s, c.goWant)
				}
				return
			}
			compareReplies(t, c, want, got)
		})
	}
}

func compareReplies(t *testing.T, c diffCase, want, got gwReply) {
	t.Helper()
	if got.status != want.status || got.ctype != want.ctype || got.location != want.location {
		t.Errorf("status/type/location: Go %d %q %q, Pyro4 %d %q %q\nGo body:    %s\nPyro4 body: %s",
			got.status, got.ctype, got.location, want.status, want.ctype, want.location, got.body, want.body)
		return
	}
	// correlation ids: present on the same answers; equal when the
	// request gave one (otherwise each gateway makes a random one)
	if (got.corr == "") != (want.corr == "") {
		t.Errorf("correlation id header: Go %q, Pyro4 %q", got.corr, want.corr)
	}
	if c.hdr[headerCorr] != "" && want.status == 200 && got.corr != want.corr {
		t.Errorf("correlation id: Go %q, Pyro4 %q", got.corr, want.corr)
	}
	if want.corr != "" && c.hdr[headerCorr] == "" {
		if _, err := parseUUID(got.corr); err != nil || len(got.corr) != 36 {
			t.Errorf("Go correlation id %q is no UUID", got.corr)
		}
	}
	if c.meta {
		if !sameMeta(t, got.body, want.body) {
			t.Errorf("$meta: Go %s, Pyro4 %s", got.body, want.body)
		}
		return
	}
	if !bytes.Equal(got.body, want.body) {
		t.Errorf("body:\nGo:    %s\nPyro4: %s", got.body, want.body)
	}
}

// sameMeta compares two $meta answers with their lists as sets, and
// checks the Go answer's key order and sorted lists.
func sameMeta(t *testing.T, a, b []byte) bool {
	t.Helper()
	type meta struct {
		Methods    []string `json:"methods"`
		Attributes []string `json:"attributes"`
	}
	var ma, mb meta
	if err := json.Unmarshal(a, &ma); err != nil {
		t.Fatalf("Go $meta %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &mb); err != nil {
		t.Fatalf("Pyro4 $meta %s: %v", b, err)
	}
	if !slices.IsSorted(ma.Methods) || !slices.IsSorted(ma.Attributes) || !bytes.HasPrefix(a, []byte(`{"methods": [`)) {
		t.Errorf("Go $meta not in Pyro4's key order with sorted lists: %s", a)
	}
	slices.Sort(mb.Methods)
	slices.Sort(mb.Attributes)
	return slices.Equal(ma.Methods, mb.Methods) && slices.Equal(ma.Attributes, mb.Attributes) &&
		strconv.Itoa(len(a)) == strconv.Itoa(len(b))
}
