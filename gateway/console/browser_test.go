package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pyrogo/pyro/gateway"
	"github.com/pyrogo/pyro/gateway/console"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
)

// screenshotOut, when set, is where the browser test also writes its
// screenshot (the README's docs/console.png is made this way:
// go test ./gateway/console -run TestConsoleInBrowser -args -console.screenshot=$PWD/docs/console.png).
var screenshotOut = flag.String("console.screenshot", "", "also write the browser test's screenshot to this PNG file")

// chromiumPath finds Debian's chromium (PYROGO_CHROMIUM overrides). Without
// it the test skips, or fails when CI is set: CI must run it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PYROGO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium); CI must run the browser test")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and the flags
// that keep it off the network (it would otherwise try to reach Google's
// services at every start), and returns a tab's context. The browser is
// stopped, and waited for, in t.Cleanup.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel() // waits for the browser process to exit
	})
	tctx, tcancel := context.WithTimeout(ctx, testbound.Scale(90*time.Second))
	t.Cleanup(tcancel)
	return tctx
}

// pageWatch records what must never happen on the console's page: a
// JavaScript dialog (an injected alert()) or an uncaught exception.
type pageWatch struct {
	mu   sync.Mutex
	bad  []string
	stop context.CancelFunc
}

func watchPage(t *testing.T, ctx context.Context) *pageWatch {
	t.Helper()
	w := &pageWatch{}
	lctx, stop := context.WithCancel(ctx)
	w.stop = stop
	err := chromedp.Listen(lctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.add("a " + string(e.Type) + " dialog opened: " + e.Message)
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			w.add(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *pageWatch) add(s string) {
	w.mu.Lock()
	w.bad = append(w.bad, s)
	w.mu.Unlock()
}

func (w *pageWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bad {
		t.Error("on the page: " + b)
	}
}

// js evaluates expr in the page and returns its value as T.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls expr in the page until it is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent + ' | ' + document.getElementById('count').textContent + ' | ' + JSON.stringify(`+visibleNames+`)`))
		t.Fatalf("waiting for %s (%s): %v; the page's status line, count and names: %s", what, expr, err, status)
	}
}

// clearField empties an input or textarea as a user would, with the input
// event that follows.
func clearField(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js[bool](t, ctx, `(e => { e.value = ''; return e.dispatchEvent(new Event('input')); })(document.querySelector(`+jsString(sel)+`))`)
}

func do1(t *testing.T, ctx context.Context, what string, a ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, a...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

const visibleNames = `Array.from(document.querySelectorAll('#names > li:not([hidden])'), li => li.dataset.name)`

// browserCall is one call made through the page's form.
type browserCall struct {
	object, method string
	args           []string // literals typed into the argument inputs
	kwargs         string   // typed into the keyword box
	result         any      // the result's JSON decoded, when it returns
	class, msg     string   // the exception, when it raises
}

// browserScenario is what the browser test does on a console at base.
type browserScenario struct {
	key      string   // the gateway key to type in; "" = none needed
	names    []string // the names it must list, exactly, in order
	filter   string   // typed into the filter box
	filtered []string // the names left
	hostile  string   // a listed name that is markup; "" = none
	calls    []browserCall
}

// runBrowser drives the console at base through sc in a real browser and
// returns a screenshot of the page showing the last call's outcome.
func runBrowser(t *testing.T, base string, sc browserScenario) []byte {
	ctx := browser(t)
	watch := watchPage(t, ctx)
	defer watch.check(t)

	do1(t, ctx, "loading the page", chromedp.Navigate(base+console.PagePath))
	if sc.key != "" {
		// Without the key the page says so; with it typed in, it lists.
		waitFor(t, ctx, "the refusal", `document.getElementById('status').textContent.includes('403')`)
		if n := js[int](t, ctx, `document.querySelectorAll('#names > li').length`); n != 0 {
			t.Fatalf("%d names listed without the gateway key", n)
		}
		do1(t, ctx, "typing the key", chromedp.SendKeys(chromedp.CSS("#key"), sc.key), chromedp.Click(chromedp.CSS("#keyform button")))
	}
	waitFor(t, ctx, "the names", fmt.Sprintf(`document.querySelectorAll('#names > li').length === %d`, len(sc.names)))
	if got := js[[]string](t, ctx, visibleNames); !reflect.DeepEqual(got, sc.names) {
		t.Fatalf("listed names %q, want %q", got, sc.names)
	}

	if sc.hostile != "" {
		// The attacker's name is text in the list and in the detail view:
		// no element was made from it and no script of it ran.
		sel := `document.querySelector('#names > li[data-name=` + jsString(sc.hostile) + `] .name')`
		if got := js[string](t, ctx, sel+`.textContent`); got != sc.hostile {
			t.Errorf("the hostile name shows as %q", got)
		}
		if n := js[int](t, ctx, `document.querySelectorAll('img, iframe, object, embed, #names script, #names b').length`); n != 0 {
			t.Errorf("%d elements were made from names or metadata", n)
		}
		openObject(t, ctx, sc.hostile, "")
		if got := js[string](t, ctx, `document.getElementById('detail-name').textContent`); got != sc.hostile {
			t.Errorf("the detail view shows %q", got)
		}
		if n := js[int](t, ctx, `document.querySelectorAll('img, iframe, object, embed, #detail script, #detail b').length`); n != 0 {
			t.Errorf("%d elements were made from the hostile name's data", n)
		}
	}

	do1(t, ctx, "typing a filter", chromedp.SendKeys(chromedp.CSS("#filter"), sc.filter))
	waitFor(t, ctx, "the list to narrow", fmt.Sprintf(`document.querySelectorAll('#names > li:not([hidden])').length === %d`, len(sc.filtered)))
	if got := js[[]string](t, ctx, visibleNames); !reflect.DeepEqual(got, sc.filtered) {
		t.Errorf("filter %q left %q, want %q", sc.filter, got, sc.filtered)
	}
	if got := js[string](t, ctx, `document.getElementById('count').textContent`); got != fmt.Sprintf("%d of %d names", len(sc.filtered), len(sc.names)) {
		t.Errorf("count %q", got)
	}
	clearField(t, ctx, "#filter")
	waitFor(t, ctx, "the whole list again", fmt.Sprintf(`document.querySelectorAll('#names > li:not([hidden])').length === %d`, len(sc.names)))

	open := ""
	for _, c := range sc.calls {
		if c.object != open {
			openObject(t, ctx, c.object, c.method)
			open = c.object
		}
		callThroughForm(t, ctx, c)
	}

	// The counters are polled: the calls made show up.
	waitFor(t, ctx, "the counters", fmt.Sprintf(`Number(document.getElementById('info-calls').textContent) >= %d`, len(sc.calls)))

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return shot
}

// openObject clicks name in the list and waits for its description (with
// method among its members, when given).
func openObject(t *testing.T, ctx context.Context, name, method string) {
	t.Helper()
	do1(t, ctx, "opening "+name, chromedp.Click(chromedp.CSS(`#names > li[data-name=`+cssString(name)+`]`)))
	cond := `document.getElementById('detail-name').textContent === ` + jsString(name) + ` && document.querySelectorAll('#method option').length > 0`
	if method != "" {
		cond += ` && Array.from(document.querySelectorAll('#method option'), o => o.value).includes(` + jsString(method) + `)`
	}
	waitFor(t, ctx, "the description of "+name, cond)
	opts := js[[]string](t, ctx, `Array.from(document.querySelectorAll('#method option'), o => o.value)`)
	if len(slices.Compact(slices.Sorted(slices.Values(opts)))) != len(opts) {
		t.Errorf("%s: the method choice lists a name twice: %q", name, opts)
	}
}

// callThroughForm fills the call form for c, submits it and checks the
// outcome the page shows.
func callThroughForm(t *testing.T, ctx context.Context, c browserCall) {
	t.Helper()
	js[bool](t, ctx, `document.getElementById('outcome').hidden = true`)
	do1(t, ctx, "choosing "+c.method, chromedp.SetValue(chromedp.CSS("#method"), c.method))
	n := js[int](t, ctx, `document.querySelectorAll('#args input.arg').length`)
	for ; n < len(c.args); n++ {
		do1(t, ctx, "adding an argument", chromedp.Click(chromedp.CSS("#addarg")))
	}
	for ; n > len(c.args); n-- {
		do1(t, ctx, "removing an argument", chromedp.Click(chromedp.CSS("#args li:last-child button.rmarg")))
	}
	for i, a := range c.args {
		sel := fmt.Sprintf("#args li:nth-child(%d) input.arg", i+1)
		clearField(t, ctx, sel)
		do1(t, ctx, "typing argument", chromedp.SendKeys(chromedp.CSS(sel), a))
	}
	clearField(t, ctx, "#kwargs")
	if c.kwargs != "" {
		do1(t, ctx, "typing kwargs", chromedp.SendKeys(chromedp.CSS("#kwargs"), c.kwargs))
	}
	do1(t, ctx, "calling", chromedp.Click(chromedp.CSS("#call")))
	waitFor(t, ctx, "the outcome of "+c.method, `!document.getElementById('outcome').hidden`)

	title := js[string](t, ctx, `document.getElementById('outcome-title').textContent`)
	text := js[string](t, ctx, `document.getElementById('result').textContent`)
	if c.class != "" {
		if title != "exception "+c.class || !strings.Contains(text, c.msg) {
			t.Errorf("%s.%s shows %q: %q, want exception %s with %q", c.object, c.method, title, text, c.class, c.msg)
		}
		return
	}
	if title != "result of "+c.method {
		t.Errorf("%s.%s shows %q: %q", c.object, c.method, title, text)
		return
	}
	var got any
	if err := json.Unmarshal([]byte(text), &got); err != nil || !reflect.DeepEqual(got, c.result) {
		t.Errorf("%s.%s: result %s (%v), want %v", c.object, c.method, text, err, c.result)
	}
}

// saveScreenshot keeps the picture as a test artifact (go test -artifacts)
// and, with -console.screenshot, at that path.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "console.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *screenshotOut != "" {
		if err := os.WriteFile(*screenshotOut, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cssString quotes s for an attribute selector.
func cssString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestConsoleInBrowser: headless Chromium loads the console from the real
// gateway (with a gateway key) over a real name server, a Go daemon and a
// Python Pyro4 daemon; it lists the exposed names (an attacker's markup
// name as text, names outside the expose regex absent), filters by
// metadata, opens objects, and calls Go and Python methods through the
// form with literal arguments, keyword arguments and an attribute,
// showing results and exceptions.
func TestConsoleInBrowser(t *testing.T) {
	ns := startWorld(t)
	pytest.Start(t, "testdata/pyobjects.py", nsHostPort(t, ns.URI())...)
	const key = "console-key"
	base := startGateway(t, ns.URI().String(), gateway.WithGatewayKey([]byte(key)))
	names := []string{"http.calc", "http.greeter", "http.py.inventory", hostileName}
	slices.Sort(names)
	sc := browserScenario{
		key:      key,
		names:    names,
		filter:   "lang:py",
		filtered: []string{"http.py.inventory"},
		hostile:  hostileName,
		calls: []browserCall{
			{object: "http.calc", method: "divide", args: []string{"1", "0.0"}, class: "builtins.ZeroDivisionError", msg: "division by zero"},
			{object: "http.calc", method: "summary", args: []string{"'totals'", "[1, 2, 39]"},
				result: map[string]any{"label": "totals", "count": 3.0, "sum": 42.0}},
			{object: "http.py.inventory", method: "remove", args: []string{"'plums'"}, class: "builtins.KeyError", msg: "plums"},
			{object: "http.py.inventory", method: "total", result: 3.0},
			{object: "http.py.inventory", method: "add", args: []string{"'pears'"}, kwargs: "qty=4",
				result: map[string]any{"item": "pears", "qty": 4.0, "items": []any{"apples", "pears"}}},
		},
	}
	shot := runBrowser(t, base, sc)
	saveScreenshot(t, shot)
}
