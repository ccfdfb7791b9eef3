package pyro

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// Unit tests of argument structs (pyro.Args) on the daemon's side: the
// parameter table, binding with Python's rules and texts, and the
// registration errors, driven through a dispatcher without a socket.

// shop is the object of these tests.
type shop struct {
	seen chan string // oneway calls report here
}

type greetArgs struct {
	Args
	Name     string
	Greeting string  `pyro:",optional"`
	Punct    *string // optional: nil when not given
}

func (a greetArgs) text() string {
	g, p := a.Greeting, "!"
	if g == "" {
		g = "hello"
	}
	if a.Punct != nil {
		p = *a.Punct
	}
	return g + " " + a.Name + p
}

// common is embedded: its fields come in its place.
type common struct {
	Verbose bool `pyro:",optional"`
}

type findArgs struct {
	Args
	Pattern  string `pyro:"regex"`
	MaxItems int    `pyro:"limit,optional"`
	common
	Extra   Kwargs
	private int // not a parameter
	Skipped int `pyro:"-"`
}

type tripleArgs struct {
	Args
	A, B, C int
}

func (*shop) PyroExpose() Exposure {
	return Exposure{Params: map[string][]string{"lead": {"id"}}, Oneway: []string{"note"}}
}

func (*shop) Greet(a greetArgs) string { return a.text() }

// GreetCtx takes a context and a pointer, and fails for an empty name.
func (*shop) GreetCtx(ctx context.Context, a *greetArgs) (string, error) {
	if a.Name == "" {
		return "", &PythonError{Class: "ValueError", Msg: "empty name"}
	}
	return CallContextFrom(ctx).Conn.RemoteAddr.String() + " " + a.text(), nil
}

func (*shop) Find(a findArgs) any {
	return py.DictOf("regex", a.Pattern, "limit", int64(a.MaxItems), "verbose", a.Verbose, "extra", int64(len(a.Extra)),
		"extra_nil", a.Extra == nil, "skipped", int64(a.Skipped))
}

func (*shop) Triple(a tripleArgs) int { return a.A*100 + a.B*10 + a.C }

type parcel struct {
	Weight float64 `pyro:"weight"`
}

type shipArgs struct {
	Args
	Parcel parcel
}

// Ship takes a struct in a field: a dict, with the daemon's rule for its
// keys.
func (*shop) Ship(a shipArgs) float64 { return a.Parcel.Weight }

// wideArgs has more parameters than argbind.go keeps on the stack.
type wideArgs struct {
	Args
	A, B, C, D, E, F, G, H, I int
	J                         *int
}

func (*shop) Wide(a wideArgs) int {
	j := -1
	if a.J != nil {
		j = *a.J
	}
	return a.A + a.B + a.C + a.D + a.E + a.F + a.G + a.H + a.I*1000 + j*10000
}

// Lead has a plain parameter before the struct, named "id" by Params.
func (*shop) Lead(id int, a greetArgs) string { return a.text() + " #" + string(rune('0'+id)) }

// Plain has a parameter before the struct that Params does not name.
func (*shop) Plain(n int, a tripleArgs) int { return n + a.A }

type noArgs struct{ Args }

// Empty takes an argument struct with no fields: no parameters.
func (*shop) Empty(noArgs) string { return "nothing" }

type matchArgs struct {
	Args
	Pattern string `pyro:"regex"`
	Skipped int    `pyro:"-"`
}

// Match has a tagged field and a skipped one, and no Kwargs field.
func (*shop) Match(a matchArgs) string { return a.Pattern }

func (s *shop) Note(a greetArgs) { s.seen <- a.text() }

// shopDispatcher is a dispatcher with a shop registered as "shop".
func shopDispatcher(t testing.TB, opts ...DaemonOption) (*dispatcher, *shop) {
	t.Helper()
	d, err := NewDaemon(BuiltinConfig(), append([]DaemonOption{WithListener(fakeListener{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		<-d.streams.closeAll()
	})
	s := &shop{seen: make(chan string, 4)}
	if _, err := d.Register(s, "shop"); err != nil {
		t.Fatal(err)
	}
	return newTestDispatcher(d), s
}

// The rules of the table: names from tags or snake_case, optional
// fields, the embedded struct's fields in its place, Kwargs, skipped
// fields.
func TestArgStructTable(t *testing.T) {
	as, err := argStructOf(reflect.TypeFor[findArgs]())
	if err != nil || as == nil {
		t.Fatalf("findArgs: %v, %v", as, err)
	}
	var got []string
	for _, f := range as.fields {
		s := f.name
		if f.optional {
			s += "?"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "regex limit? verbose?" || as.rest == nil || as.required() != 1 {
		t.Errorf("findArgs fields %v, rest %v, required %d", got, as.rest, as.required())
	}
	as, err = argStructOf(reflect.TypeFor[greetArgs]())
	if err != nil || len(as.fields) != 3 || as.fields[2].name != "punct" || !as.fields[2].optional || as.rest != nil {
		t.Errorf("greetArgs: %+v, %v", as, err)
	}
	// ordinary structs are no argument structs
	for _, typ := range []reflect.Type{reflect.TypeFor[calc](), reflect.TypeFor[struct{ Args int }](), reflect.TypeFor[time.Time]()} {
		if as, err := argStructOf(typ); as != nil || err != nil {
			t.Errorf("%v: %v, %v", typ, as, err)
		}
	}
}

// Calls bound as Python binds them, and Python's texts for what does not
// fit (checked against CPython 3.11's own texts).
func TestArgStructBinding(t *testing.T) {
	dc, _ := shopDispatcher(t)
	for _, tc := range []struct {
		name   string
		method string
		args   []any
		kw     []any
		want   any
		text   string // the TypeError's text
	}{
		{name: "positional", method: "greet", args: []any{"Ann", "hi", "?"}, want: "hi Ann?"},
		{name: "required only", method: "greet", args: []any{"Ann"}, want: "hello Ann!"},
		{name: "keywords", method: "greet", kw: []any{"punct", ".", "name", "Bo"}, want: "hello Bo."},
		{name: "mixed", method: "greet", args: []any{"Cy"}, kw: []any{"greeting", "yo"}, want: "yo Cy!"},
		{name: "None for a pointer", method: "greet", args: []any{"Di"}, kw: []any{"punct", nil}, want: "hello Di!"},
		{name: "go name", method: "Greet", args: []any{"Ed"}, want: "hello Ed!"},
		{name: "tags, embedded, rest", method: "find", args: []any{"a.*", int64(3)}, kw: []any{"verbose", true, "x", 1, "y", 2},
			want: py.DictOf("regex", "a.*", "limit", int64(3), "verbose", true, "extra", int64(2), "extra_nil", false, "skipped", int64(0))},
		{name: "no rest", method: "find", kw: []any{"regex", "b"},
			want: py.DictOf("regex", "b", "limit", int64(0), "verbose", false, "extra", int64(0), "extra_nil", true, "skipped", int64(0))},
		{name: "three", method: "triple", args: []any{int64(1), int64(2)}, kw: []any{"c", int64(3)}, want: int64(123)},
		{name: "wide", method: "wide", args: []any{int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1)},
			kw: []any{"i", int64(2), "j", int64(3)}, want: int64(32008)},
		{name: "wide, missing", method: "wide", args: []any{int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1)},
			text: "shop.wide() missing 2 required positional arguments: 'h' and 'i'"},
		{name: "wide, too many", method: "wide", args: make([]any, 11),
			text: "shop.wide() takes from 10 to 11 positional arguments but 12 were given"},
		{name: "named plain parameter", method: "lead", kw: []any{"name", "Fy", "id", int64(7)}, want: "hello Fy! #7"},
		{name: "plain parameter", method: "plain", args: []any{int64(1), int64(2), int64(3), int64(4)}, want: int64(3)},
		{name: "no fields", method: "empty", want: "nothing"},

		{name: "missing 1", method: "greet", text: "shop.greet() missing 1 required positional argument: 'name'"},
		{name: "missing 1 with keywords", method: "greet", kw: []any{"greeting", "hi"},
			text: "shop.greet() missing 1 required positional argument: 'name'"},
		{name: "missing 2", method: "triple", args: []any{int64(1)}, text: "shop.triple() missing 2 required positional arguments: 'b' and 'c'"},
		{name: "missing 3", method: "triple", text: "shop.triple() missing 3 required positional arguments: 'a', 'b', and 'c'"},
		{name: "missing unnamed", method: "plain", kw: []any{"a", 1, "b", 2, "c", 3},
			text: "shop.plain() missing 1 required positional argument: 'arg1'"},
		{name: "too many, optional", method: "greet", args: []any{"a", "b", "c", "d"},
			text: "shop.greet() takes from 2 to 4 positional arguments but 5 were given"},
		{name: "too many", method: "triple", args: []any{int64(1), int64(2), int64(3), int64(4)},
			text: "shop.triple() takes 4 positional arguments but 5 were given"},
		{name: "too many, none", method: "empty", args: []any{int64(1)}, text: "shop.empty() takes 1 positional argument but 2 were given"},
		{name: "twice", method: "greet", args: []any{"a"}, kw: []any{"name", "b"}, text: "shop.greet() got multiple values for argument 'name'"},
		{name: "unexpected", method: "greet", args: []any{"a"}, kw: []any{"bogus", 1},
			text: "shop.greet() got an unexpected keyword argument 'bogus'"},
		{name: "go name is no keyword", method: "greet", kw: []any{"Name", "a"},
			text: "shop.greet() got an unexpected keyword argument 'Name'"},
		{name: "tag name", method: "match", kw: []any{"regex", "a"}, want: "a"},
		{name: "tag name replaces snake_case", method: "match", kw: []any{"pattern", "a"},
			text: "shop.match() got an unexpected keyword argument 'pattern'"},
		{name: "skipped field", method: "match", args: []any{"a"}, kw: []any{"skipped", 1},
			text: "shop.match() got an unexpected keyword argument 'skipped'"},
		{name: "unknown keywords to Kwargs", method: "find", args: []any{"a"}, kw: []any{"pattern", "b", "skipped", 1, "Verbose", true},
			want: py.DictOf("regex", "a", "limit", int64(0), "verbose", false, "extra", int64(3), "extra_nil", false, "skipped", int64(0))},
		// CPython checks keywords before counting positional arguments
		{name: "unexpected before too many", method: "greet", args: []any{"a", "b", "c", "d"}, kw: []any{"bogus", 1},
			text: "shop.greet() got an unexpected keyword argument 'bogus'"},
		{name: "twice before too many", method: "triple", args: []any{int64(1), int64(2), int64(3), int64(4)}, kw: []any{"a", 1},
			text: "shop.triple() got multiple values for argument 'a'"},
		{name: "wrong type, positional", method: "triple", args: []any{int64(1), "two", int64(3)}, text: "arg 2: cannot convert str to int"},
		{name: "wrong type, keyword", method: "triple", args: []any{int64(1), int64(2)}, kw: []any{"c", "three"},
			text: "keyword argument 'c': cannot convert str to int"},
		{name: "None for a required value", method: "greet", args: []any{nil}, text: "arg 1: cannot convert NoneType to string"},
	} {
		out := dc.do(0, "shop", tc.method, tc.args, tc.kw...)
		if tc.text != "" {
			wantErr(t, tc.name, out, "builtins.TypeError", tc.text)
		} else {
			wantValue(t, tc.name, out, tc.want)
		}
	}
	// a keyword that is not a str (which the codecs refuse already)
	req := request{call: &codec.Call{Object: "shop", Method: "greet", Args: []any{"a"}, Kwargs: py.DictOf(int64(1), "x")},
		cc: &CallContext{Conn: dc.conn}}
	wantErr(t, "non-str keyword", dc.dispatch(&req), "builtins.TypeError", "shop.greet() keywords must be strings")
}

// A context parameter, a pointer to the struct, errors, oneway calls and
// batches.
func TestArgStructCalls(t *testing.T) {
	dc, s := shopDispatcher(t)
	wantValue(t, "ctx and pointer", dc.do(0, "shop", "greet_ctx", nil, "name", "Ann", "punct", "?"), "192.0.2.1:4242 hello Ann?")
	wantErr(t, "error", dc.do(0, "shop", "greet_ctx", []any{""}), "builtins.ValueError", "empty name")
	wantErr(t, "missing, ctx", dc.do(0, "shop", "greet_ctx", nil), "builtins.TypeError", "shop.greet_ctx() missing 1 required positional argument: 'name'")

	if out := dc.do(wire.FlagOneway, "shop", "note", nil, "name", "Ow"); !out.silent {
		t.Errorf("oneway answered %+v", out)
	}
	select {
	case got := <-s.seen:
		if got != "hello Ow!" {
			t.Errorf("oneway call got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the oneway call did not run")
	}

	item := func(m string, args []any, kw ...any) any { return py.Tuple{m, py.Tuple(args), py.DictOf(kw...)} }
	out := dc.do(wire.FlagBatch, "shop", "<batch>", []any{
		item("greet", []any{"Al"}),
		item("greet", nil, "name", "Bo", "greeting", "hey"),
		item("triple", []any{int64(1)}, "b", int64(2), "c", int64(3)),
		item("greet", nil, "nom", "x"),
		item("greet", []any{"never"}),
	})
	res, _ := out.value.([]any)
	if !out.batch || len(res) != 4 || res[0] != "hello Al!" || res[1] != "hey Bo!" || res[2] != 123 {
		t.Fatalf("batch: %+v", out)
	}
	w, ok := res[3].(*codec.ExceptionWrapper)
	if !ok || w.Exception.Class != "builtins.TypeError" || w.Exception.Message() != "shop.greet() got an unexpected keyword argument 'nom'" {
		t.Errorf("batch failure %v", py.Repr(res[3]))
	}
}

// WithIgnoreUnknownKeys is about the keys of dicts that become structs,
// also in the fields of argument structs; unknown keywords stay errors.
func TestArgStructUnknownKeys(t *testing.T) {
	strict, _ := shopDispatcher(t)
	lenient, _ := shopDispatcher(t, WithIgnoreUnknownKeys())
	good := py.DictOf("weight", 2.5)
	typo := py.DictOf("wieght", 2.5)
	wantValue(t, "strict", strict.do(0, "shop", "ship", []any{good}), 2.5)
	wantErr(t, "strict typo, positional", strict.do(0, "shop", "ship", []any{typo}), "builtins.TypeError",
		"arg 1: unknown key 'wieght' for pyro.parcel (fields: weight)")
	wantErr(t, "strict typo, keyword", strict.do(0, "shop", "ship", nil, "parcel", typo), "builtins.TypeError",
		"keyword argument 'parcel': unknown key 'wieght' for pyro.parcel (fields: weight)")
	wantValue(t, "lenient typo", lenient.do(0, "shop", "ship", nil, "parcel", typo), 0.0)
	for name, dc := range map[string]*dispatcher{"strict": strict, "lenient": lenient} {
		wantErr(t, name+" keyword", dc.do(0, "shop", "ship", nil, "parcle", good), "builtins.TypeError",
			"shop.ship() got an unexpected keyword argument 'parcle'")
	}
}

// Interceptors see the arguments as the client sent them, and may change
// them before they are bound.
func TestArgStructInterceptor(t *testing.T) {
	var seen []string
	rename := InterceptorFunc(func(next CallFunc) CallFunc {
		return func(ctx context.Context, c *Call) (any, error) {
			seen = append(seen, py.Repr(c.Args)+" "+py.Repr(c.Kwargs))
			if v, ok := c.Kwargs.GetString("who"); ok {
				c.Kwargs = py.DictOf("name", v)
			}
			return next(ctx, c)
		}
	})
	dc, _ := shopDispatcher(t, WithInterceptors(rename))
	wantValue(t, "renamed keyword", dc.do(0, "shop", "greet", nil, "who", "Ann"), "hello Ann!")
	if len(seen) != 1 || seen[0] != "[] {'who': 'Ann'}" {
		t.Errorf("interceptor saw %q", seen)
	}
}

// Types that break the rules: the method is left out with the reason
// (and Register names it), or the Exposure is refused.
type badEmbedPtr struct {
	*Args
	A int
}
type badOrder struct {
	Args
	A int `pyro:",optional"`
	B int
}
type badDup struct {
	Args
	A int `pyro:"x"`
	B int `pyro:"x"`
}
type badOption struct {
	Args
	A int `pyro:",omitempty"`
}
type badFunc struct {
	Args
	F func()
}
type badTwoRest struct {
	Args
	K1, K2 Kwargs
}
type badEmbedTime struct {
	Args
	time.Time
}
type badEmbedStructPtr struct {
	Args
	*common
}

type badMethods struct{}

func (badMethods) EmbedPtr(badEmbedPtr)             {}
func (badMethods) Order(badOrder)                   {}
func (badMethods) Dup(badDup)                       {}
func (badMethods) Option(badOption)                 {}
func (badMethods) Func(badFunc)                     {}
func (badMethods) TwoRest(badTwoRest)               {}
func (badMethods) EmbedTime(badEmbedTime)           {}
func (badMethods) EmbedStructPtr(badEmbedStructPtr) {}
func (badMethods) NotLast(greetArgs, int)           {}
func (badMethods) AndKwargs(greetArgs, Kwargs)      {}
func (badMethods) Variadic(a greetArgs, n ...int)   {}
func (badMethods) Fine(greetArgs)                   {}

func TestArgStructRefused(t *testing.T) {
	ti, err := exposeType(reflect.TypeFor[badMethods](), Exposure{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ti.meta.Methods) != 1 || ti.meta.Methods[0] != "fine" {
		t.Errorf("exposed %v", ti.meta.Methods)
	}
	want := map[string]string{
		"EmbedPtr":       "it embeds *pyro.Args: embed pyro.Args",
		"Order":          "required field B follows optional field A (as in Python, optional parameters come last)",
		"Dup":            `fields A and B both have the Python name "x"`,
		"Option":         `field A: unknown option "omitempty" in its pyro tag`,
		"Func":           "field F has type func(), which no Python value converts to",
		"TwoRest":        "it has two pyro.Kwargs fields",
		"EmbedTime":      "it embeds time.Time, which converts as one value: give the field a name",
		"EmbedStructPtr": "it embeds *pyro.common: embed the struct, not a pointer to it",
		"NotLast":        "parameter 1 is an argument struct (pyro.Args), which must be the last parameter",
		"AndKwargs":      "parameter 1 is an argument struct (pyro.Args), which must be the last parameter (give it a pyro.Kwargs field",
		"Variadic":       "parameter 1 is an argument struct (pyro.Args), which must be the last parameter",
	}
	for _, s := range ti.skipped {
		name, reason, _ := strings.Cut(s, ": ")
		w, ok := want[name]
		if !ok || !strings.Contains(reason, w) {
			t.Errorf("%s: %q, want %q", name, reason, w)
		}
		delete(want, name)
	}
	for name := range want {
		t.Errorf("%s was not refused", name)
	}

	// Params naming more than the parameters before the struct, or a field
	for _, tc := range []struct {
		params []string
		want   string
	}{
		{[]string{"id", "name"}, "the Params of Lead name 2 parameters, but it has 1 before its argument struct"},
		{[]string{"name"}, `the Params of Lead name parameter "name", which is a field of its argument struct pyro.greetArgs too`},
	} {
		_, err := exposeType(reflect.TypeFor[*shop](), Exposure{Params: map[string][]string{"lead": tc.params}})
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("Params %v: %v", tc.params, err)
		}
	}
	// Register says why
	d, err := NewDaemon(BuiltinConfig(), WithListener(fakeListener{}))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.Register(struct{ badOnly }{}, "")
	if err == nil || !errors.Is(err, ErrDaemon) || !strings.Contains(err.Error(), "required field B follows optional field A") {
		t.Errorf("Register: %v", err)
	}
}

type badOnly struct{}

func (badOnly) Order(badOrder) {}

// BenchmarkDispatchArgStruct measures dispatch alone (no socket, no
// codec) of a call binding one positional and two keyword arguments to an
// argument struct, next to BenchmarkDispatch's two plain parameters.
func BenchmarkDispatchArgStruct(b *testing.B) {
	dc, _ := shopDispatcher(b)
	call := &codec.Call{Object: "shop", Method: "greet", Args: []any{"Ann"}, Kwargs: py.DictOf("greeting", "hi", "punct", "?")}
	cc := &CallContext{Conn: dc.conn}
	b.ReportAllocs()
	for b.Loop() {
		req := request{call: call, cc: cc}
		if out := dc.dispatch(&req); out.err != nil {
			b.Fatal(out.err)
		}
	}
}

// Many keywords cost time in proportion to their number: into a Kwargs
// field, or refused at the first unexpected one.
func TestArgStructManyKeywords(t *testing.T) {
	dc, _ := shopDispatcher(t)
	kw := make([]any, 0, 2*100_000)
	for i := range 100_000 {
		kw = append(kw, "k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+py.Repr(int64(i)), int64(i))
	}
	out := dc.do(0, "shop", "find", []any{"a"}, kw...)
	d, ok := out.value.(*py.Dict)
	if v, _ := d.GetString("extra"); !ok || v != int64(100_000) {
		t.Errorf("find with 100000 keywords: %v, %v", py.Repr(out.value), out.err)
	}
	wantErr(t, "unexpected", dc.do(0, "shop", "greet", []any{"a"}, kw...), "builtins.TypeError", "shop.greet() got an unexpected keyword argument 'ka0'")
}
