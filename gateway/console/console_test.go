package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/gateway/console"
	"github.com/pyrogo/pyro/py"
)

// do runs one request through the console and returns the recorder.
func do(t *testing.T, h http.Handler, method, target, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// apiError decodes an {"ok":false,"error":{...}} answer.
func apiError(t *testing.T, w *httptest.ResponseRecorder) (class, msg string) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q, want JSON; body %q", ct, w.Body.String())
	}
	var e struct {
		OK    *bool `json:"ok"`
		Error struct {
			Class   string `json:"class"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	if e.OK == nil || *e.OK || e.Error.Class == "" || e.Error.Message == "" {
		t.Fatalf("error body %q lacks ok:false and a class and message", w.Body.String())
	}
	return e.Error.Class, e.Error.Message
}

func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "*") || strings.Contains(csp, "http") {
		t.Errorf("Content-Security-Policy %q allows more than this origin", csp)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if got := w.Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options %q", got)
	}
}

func TestPageAndFiles(t *testing.T) {
	h := console.New(&fakeBackend{key: "secret"}) // the page itself needs no key: it asks for it
	for _, c := range []struct{ path, ctype, contains string }{
		{"/pyro/", "text/html; charset=utf-8", `<script src="/console/console.js"`},
		{"/console/console.js", "text/javascript; charset=utf-8", "X-Pyro-Gateway-Key"},
		{"/console/console.css", "text/css; charset=utf-8", "#names"},
	} {
		w := do(t, h, "GET", c.path, "", "")
		if w.Code != 200 || w.Header().Get("Content-Type") != c.ctype || !strings.Contains(w.Body.String(), c.contains) {
			t.Errorf("GET %s: %d %q, body contains %q: %v", c.path, w.Code, w.Header().Get("Content-Type"), c.contains, strings.Contains(w.Body.String(), c.contains))
		}
		checkSecurityHeaders(t, w)
		if w := do(t, h, "HEAD", c.path, "", ""); w.Code != 200 || w.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d with %d body bytes", c.path, w.Code, w.Body.Len())
		}
		for _, m := range []string{"POST", "PUT", "DELETE"} {
			w := do(t, h, m, c.path, "", "")
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, c.path, w.Code)
			}
			apiError(t, w)
		}
	}
	if w := do(t, h, "GET", "/console/", "", ""); w.Code != http.StatusFound || w.Header().Get("Location") != "/pyro/" {
		t.Errorf("GET /console/: %d to %q, want 302 to /pyro/", w.Code, w.Header().Get("Location"))
	}
}

// TestPageUsesNoMarkupSinks checks the page's script never turns strings
// into markup or code: every server string goes in as text.
func TestPageUsesNoMarkupSinks(t *testing.T) {
	h := console.New(&fakeBackend{})
	for _, path := range []string{"/console/console.js", "/pyro/"} {
		body := do(t, h, "GET", path, "", "").Body.String()
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setTimeout(\"", "javascript:", "onclick=", "onload=", "<style", "style="} {
			if strings.Contains(body, sink) {
				t.Errorf("%s uses %q", path, sink)
			}
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("%s refers to another origin", path)
		}
	}
}

func TestPathTraversal(t *testing.T) {
	h := console.New(&fakeBackend{})
	for _, p := range []string{
		"/console/../console.go", "/console/%2e%2e/console.go", "/console/static/console.js",
		"/console/static/index.html", "/console//console.js", "/console/./console.js",
		"/console/api/../console.js", "/console/console.js/", "/console/CONSOLE.JS",
		"/console/console.js%00", "/console/console.js/..", "/pyro/index.html", "/pyro/x",
		"/pyro/../console/console.js", "/console/..%2fconsole.go", "/console/%2e%2e%2fdoc.go",
		"/console/backend.go", "/console/api/", "/console/api/names/", "/console/api/call/..",
		"/console/api/NAMES", "/console/api//names", "/console/static/",
	} {
		w := do(t, h, "GET", p, "", "")
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404; body %.80q", p, w.Code, w.Body.String())
			continue
		}
		if strings.Contains(w.Body.String(), "package console") {
			t.Errorf("GET %s served Go source", p)
		}
		apiError(t, w)
		checkSecurityHeaders(t, w)
	}
}

func TestAPINeedsKey(t *testing.T) {
	f := &fakeBackend{key: "s3cret", names: []console.Name{{Name: "http.a"}}, result: int64(1)}
	h := console.New(f)
	calls := []struct{ method, path, body string }{
		{"GET", "/console/api/info", ""},
		{"GET", "/console/api/names", ""},
		{"GET", "/console/api/describe?name=http.a", ""},
		{"POST", "/console/api/call", `{"name":"http.a","method":"m","args":[],"kwargs":{}}`},
	}
	for _, key := range []string{"", "wrong", "S3CRET", "s3cret "} {
		for _, c := range calls {
			w := do(t, h, c.method, c.path, "application/json", c.body, console.KeyHeader, key)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s %s with key %q: %d, want 403", c.method, c.path, key, w.Code)
			}
			if cl, _ := apiError(t, w); cl != "Forbidden" {
				t.Errorf("class %q", cl)
			}
		}
	}
	if n := f.reachedCount(); n != 0 {
		t.Fatalf("the Backend was reached %d times without the key", n)
	}
	for _, c := range calls {
		if w := do(t, h, c.method, c.path, "application/json", c.body, console.KeyHeader, "s3cret"); w.Code != 200 {
			t.Errorf("%s %s with the key: %d %s", c.method, c.path, w.Code, w.Body)
		}
	}
}

func TestInfoNamesDescribe(t *testing.T) {
	hostile := "http.<img src=x onerror=alert(1)>"
	f := &fakeBackend{
		names: []console.Name{{Name: hostile, URI: "PYRO:obj@localhost:1", Metadata: []string{"<b>tag</b>"}}, {Name: "http.b", URI: "PYRO:b@localhost:1"}},
		desc:  console.Description{Methods: []string{"add"}, Attributes: []string{"size"}},
		info:  console.Info{NameServer: "PYRO:Pyro.NameServer@localhost:9090", Expose: `http\.`, Started: infoStarted, Requests: 7, Calls: 5, Errors: 2, Refused: 1},
	}
	h := console.New(f)

	w := do(t, h, "GET", "/console/api/info", "", "")
	want := `{"nameserver":"PYRO:Pyro.NameServer@localhost:9090","expose":"http\\.","started":"2026-12-07T11:00:00Z","requests":7,"calls":5,"errors":2,"refused":1}` + "\n"
	if w.Code != 200 || w.Body.String() != want {
		t.Errorf("info: %d %s, want %s", w.Code, w.Body, want)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("info Cache-Control %q", w.Header().Get("Cache-Control"))
	}

	w = do(t, h, "GET", "/console/api/names", "", "")
	if strings.ContainsAny(w.Body.String(), "<>") {
		t.Errorf("names answer has raw markup characters: %s", w.Body)
	}
	var nr struct{ Names []console.Name }
	if err := json.Unmarshal(w.Body.Bytes(), &nr); err != nil || len(nr.Names) != 2 || nr.Names[0].Name != hostile || nr.Names[1].Metadata == nil {
		t.Errorf("names: %v %+v (%s)", err, nr, w.Body)
	}

	w = do(t, h, "GET", "/console/api/describe?name="+strings.ReplaceAll(hostile, " ", "%20"), "", "")
	if want := `{"methods":["add"],"oneway":[],"attributes":["size"]}` + "\n"; w.Code != 200 || w.Body.String() != want {
		t.Errorf("describe: %d %s, want %s", w.Code, w.Body, want)
	}
	for _, q := range []string{"", "?name=", "?name=a&name=b", "?name=a&x=1", "?nom=a", "?name=" + strings.Repeat("a", 1025)} {
		w := do(t, h, "GET", "/console/api/describe"+q, "", "")
		if w.Code != http.StatusBadRequest {
			t.Errorf("describe%s: %d, want 400", q, w.Code)
		}
		apiError(t, w)
	}
}

func TestCallParsesLiterals(t *testing.T) {
	f := &fakeBackend{result: py.DictOf("sum", int64(42), "items", []any{"a<b", py.Tuple{int64(1), 2.5}}, "none", nil)}
	h := console.New(f)
	body := `{"name":"http.calc","method":"add","args":["42","'a\\'b'","[1, (2, 3)]","{'k': None, 2: b'\\x00'}","123456789012345678901234567890","-1.5e3","{1, 2}","True"],"kwargs":{"x":"(1,)","y":"\"s\""}}`
	w := do(t, h, "POST", "/console/api/call", "application/json; charset=utf-8", body)
	if w.Code != 200 {
		t.Fatalf("call: %d %s", w.Code, w.Body)
	}
	big, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	wantArgs := []any{int64(42), "a'b", []any{int64(1), py.Tuple{int64(2), int64(3)}}, py.DictOf("k", nil, int64(2), []byte{0}), big, -1500.0, py.SetOf(int64(1), int64(2)), true}
	lc := f.lastCall
	if lc.name != "http.calc" || lc.method != "add" || len(lc.args) != len(wantArgs) {
		t.Fatalf("the Backend got %q.%q(%v)", lc.name, lc.method, lc.args)
	}
	for i := range wantArgs {
		if !py.Same(lc.args[i], wantArgs[i]) {
			t.Errorf("argument %d: %#v, want %#v", i+1, lc.args[i], wantArgs[i])
		}
	}
	if !py.Same(lc.kwargs["x"], py.Tuple{int64(1)}) || lc.kwargs["y"] != "s" || len(lc.kwargs) != 2 {
		t.Errorf("kwargs %#v", lc.kwargs)
	}
	want := `{"ok":true,"result":{"sum":42,"items":["a\u003cb",[1,2.5]],"none":null},"repr":"{'sum': 42, 'items': ['a\u003cb', (1, 2.5)], 'none': None}"}` + "\n"
	if w.Body.String() != want {
		t.Errorf("answer\n%s\nwant\n%s", w.Body, want)
	}
}

// TestCallNeverEvaluates: what is not a literal is refused before the
// Backend is reached; nothing is evaluated.
func TestCallNeverEvaluates(t *testing.T) {
	f := &fakeBackend{result: int64(1)}
	h := console.New(f)
	for _, lit := range []string{
		"__import__('os').system('touch /tmp/pwned')", "open('/etc/passwd')", "1 + 1", "x", "lambda: 0",
		"[i for i in range(10)]", "f'{1}'", "...", "print(1)", "'a' * 10**9", "2**100000", "", "   ", "# only a comment",
		"(1,", "'unterminated", "'\\N{BULLET}'", "{[]: 1}",
	} {
		for _, body := range []string{
			fmt.Sprintf(`{"name":"http.x","method":"m","args":[%q]}`, lit),
			fmt.Sprintf(`{"name":"http.x","method":"m","kwargs":{"k":%q}}`, lit),
		} {
			w := do(t, h, "POST", "/console/api/call", "application/json", body)
			if w.Code != http.StatusBadRequest {
				t.Errorf("literal %q: %d, want 400 (%s)", lit, w.Code, w.Body)
				continue
			}
			if cl, msg := apiError(t, w); cl != "BadRequest" || !strings.Contains(msg, "argument") {
				t.Errorf("literal %q: %s %s", lit, cl, msg)
			}
		}
	}
	if n := f.reachedCount(); n != 0 {
		t.Fatalf("the Backend was called %d times with non-literals", n)
	}
}

func TestCallHostile(t *testing.T) {
	const ok = `{"name":"http.x","method":"m","args":["1"],"kwargs":{}}`
	deep := strings.Repeat("[", 33) + strings.Repeat("]", 33)
	manyArgs := `{"name":"http.x","method":"m","args":[` + strings.TrimSuffix(strings.Repeat(`"1",`, 65), ",") + `]}`
	cases := []struct {
		name, method, ctype, body string
		hdr                       []string
		want                      int
	}{
		{"text/plain (a simple cross-origin POST)", "POST", "text/plain", ok, nil, 415},
		{"form (a simple cross-origin POST)", "POST", "application/x-www-form-urlencoded", "name=http.x&method=m", nil, 415},
		{"multipart", "POST", "multipart/form-data; boundary=x", ok, nil, 415},
		{"no content type", "POST", "", ok, nil, 415},
		{"json lookalike", "POST", "application/jsonp", ok, nil, 415},
		{"bad media type", "POST", "application/json; ;", ok, nil, 415},
		{"GET", "GET", "application/json", "", nil, 405},
		{"PUT", "PUT", "application/json", ok, nil, 405},
		{"cross-site", "POST", "application/json", ok, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-site (another port on localhost)", "POST", "application/json", ok, []string{"Sec-Fetch-Site", "same-site"}, 403},
		{"empty body", "POST", "application/json", "", nil, 400},
		{"bad JSON", "POST", "application/json", `{"name":`, nil, 400},
		{"not an object", "POST", "application/json", `["http.x","m"]`, nil, 400},
		{"unknown field", "POST", "application/json", `{"name":"http.x","method":"m","evil":1}`, nil, 400},
		{"two objects", "POST", "application/json", ok + ok, nil, 400},
		{"trailing garbage", "POST", "application/json", ok + "x", nil, 400},
		{"args not strings", "POST", "application/json", `{"name":"http.x","method":"m","args":[1]}`, nil, 400},
		{"kwargs not strings", "POST", "application/json", `{"name":"http.x","method":"m","kwargs":{"k":[1]}}`, nil, 400},
		{"no name", "POST", "application/json", `{"method":"m"}`, nil, 400},
		{"no method", "POST", "application/json", `{"name":"http.x"}`, nil, 400},
		{"long method", "POST", "application/json", `{"name":"http.x","method":"` + strings.Repeat("m", 1025) + `"}`, nil, 400},
		{"empty kwarg name", "POST", "application/json", `{"name":"http.x","method":"m","kwargs":{"":"1"}}`, nil, 400},
		{"too many args", "POST", "application/json", manyArgs, nil, 400},
		{"deep literal", "POST", "application/json", `{"name":"http.x","method":"m","args":["` + deep + `"]}`, nil, 400},
		{"huge integer", "POST", "application/json", `{"name":"http.x","method":"m","args":["` + strings.Repeat("9", 1001) + `"]}`, nil, 400},
		{"many items", "POST", "application/json", `{"name":"http.x","method":"m","args":["[` + strings.Repeat("0,", 10_001) + `]"]}`, nil, 400},
		{"body over the limit", "POST", "application/json", `{"name":"http.x","method":"m","args":["'` + strings.Repeat("a", 64<<10) + `'"]}`, nil, 413},
		{"invalid UTF-8 in a literal", "POST", "application/json", `{"name":"http.x","method":"m","args":["'\u0000'"]}`, nil, 400},
	}
	f := &fakeBackend{result: int64(1)}
	h := console.New(f)
	// A CORS preflight gets no permission: a page of another origin can
	// never send the JSON call.
	pre := do(t, h, "OPTIONS", "/console/api/call", "", "", "Origin", "http://evil.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if pre.Code != http.StatusMethodNotAllowed || pre.Header().Get("Access-Control-Allow-Origin") != "" || pre.Header().Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight: %d %v", pre.Code, pre.Header())
	}
	for _, c := range cases {
		w := do(t, h, c.method, "/console/api/call", c.ctype, c.body, c.hdr...)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.want, w.Body)
			continue
		}
		apiError(t, w)
	}
	if n := f.reachedCount(); n != 0 {
		t.Fatalf("the Backend was called %d times by hostile requests", n)
	}
	if w := do(t, h, "POST", "/console/api/call", "application/json", ok, "Sec-Fetch-Site", "same-origin"); w.Code != 200 {
		t.Fatalf("a good call after them: %d %s", w.Code, w.Body)
	}
}

// TestCallBodyLimitWithoutLength: a chunked body (no Content-Length) that
// goes on past the limit is cut off at the limit, through a real server.
func TestCallBodyLimitWithoutLength(t *testing.T) {
	f := &fakeBackend{result: int64(1)}
	srv := httptest.NewServer(console.New(f))
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"name":"http.x","method":"m","args":["'`))
		chunk := []byte(strings.Repeat("a", 4096))
		for i := 0; i < 1024; i++ { // 4 MiB unless the server stops reading
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/console/api/call", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	_ = pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if f.reachedCount() != 0 {
		t.Fatal("the Backend was called")
	}
}

func TestBackendErrors(t *testing.T) {
	remote := &pyro.RemoteError{Exception: py.NewException("builtins.ValueError", "bad <value>", nil)}
	cases := []struct {
		name     string
		err      error
		status   int
		class    string
		okFalse  bool // 200 with ok:false
		inCallOK bool // only call answers 200 for it
	}{
		{"forbidden", fmt.Errorf("name %q: %w", "x", console.ErrForbidden), 403, "Forbidden", false, false},
		{"not found", fmt.Errorf("name %q: %w", "x", console.ErrNotFound), 404, "NotFound", false, false},
		{"remote exception", fmt.Errorf("calling: %w", remote), 200, "builtins.ValueError", true, false},
		{"communication", pyro.NewError(pyro.ErrConnectionClosed, "connection closed"), 502, "Pyro4.errors.ConnectionClosedError", false, false},
		{"pyro timeout", pyro.NewError(pyro.ErrTimeout, "receiving: timeout"), 504, "Pyro4.errors.TimeoutError", false, false},
		{"deadline", fmt.Errorf("lookup: %w", context.DeadlineExceeded), 504, "Pyro4.errors.TimeoutError", false, false},
		{"other", fmt.Errorf("something broke"), 500, "InternalServerError", false, false},
	}
	for _, c := range cases {
		f := &fakeBackend{err: c.err}
		h := console.New(f)
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/console/api/names", ""},
			{"GET", "/console/api/describe?name=http.x", ""},
			{"POST", "/console/api/call", `{"name":"http.x","method":"m"}`},
		} {
			w := do(t, h, r.method, r.path, "application/json", r.body)
			if w.Code != c.status {
				t.Errorf("%s, %s: %d, want %d (%s)", c.name, r.path, w.Code, c.status, w.Body)
				continue
			}
			class, msg := apiError(t, w)
			if class != c.class {
				t.Errorf("%s, %s: class %q, want %q", c.name, r.path, class, c.class)
			}
			if c.okFalse && msg != "bad <value>" {
				t.Errorf("%s: message %q", c.name, msg)
			}
		}
	}
}

func TestCallResultWithoutJSONForm(t *testing.T) {
	for _, c := range []struct {
		result     any
		repr       string
		resultJSON string // "" = no result, a resultError
	}{
		{math.NaN(), "nan", ""},
		{math.Inf(1), "inf", ""},
		{nil, "None", "null"},
		{py.SetOf("a"), "{'a'}", `["a"]`},
	} {
		h := console.New(&fakeBackend{result: c.result})
		w := do(t, h, "POST", "/console/api/call", "application/json", `{"name":"http.x","method":"m"}`)
		var rep struct {
			OK          bool
			Result      json.RawMessage
			ResultError string
			Repr        string
		}
		if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil || w.Code != 200 || !rep.OK {
			t.Errorf("%v: %d %s %v", c.result, w.Code, w.Body, err)
			continue
		}
		if rep.Repr != c.repr || string(rep.Result) != c.resultJSON || (c.resultJSON == "") != (rep.ResultError != "") {
			t.Errorf("%v: %s", c.result, w.Body)
		}
	}
}

func TestWithLimits(t *testing.T) {
	f := &fakeBackend{result: int64(1)}
	h := console.New(f, console.WithLimits(console.Limits{MaxArgs: 1}))
	if w := do(t, h, "POST", "/console/api/call", "application/json", `{"name":"http.x","method":"m","args":["1","2"]}`); w.Code != 400 {
		t.Errorf("2 args over a limit of 1: %d", w.Code)
	}
	if w := do(t, h, "POST", "/console/api/call", "application/json", `{"name":"http.x","method":"m","args":["`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+`"]}`); w.Code != 200 {
		t.Errorf("the other limits keep their defaults: %d %s", w.Code, w.Body)
	}
	if !reflect.DeepEqual(console.DefaultLimits().Literal.MaxDepth, 32) {
		t.Errorf("default depth %d", console.DefaultLimits().Literal.MaxDepth)
	}
}
