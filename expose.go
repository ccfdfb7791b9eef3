package pyro

import (
	"context"
	"fmt"
	"github.com/pyrogo/pyro/py"
	"iter"
	"reflect"
	"slices"
	"strings"
)

// Exposer is implemented by types that tell the daemon more than their
// method set says: which methods are oneway, which attributes are remote
// attributes, parameter names for keyword arguments, and extra Python
// names. It is the Go form of Pyro's @expose/@oneway/@property/@callback
// decorators.
type Exposer interface {
	PyroExpose() Exposure
}

// Exposure describes how a type is exposed. Every name in it is a Python
// name (snake_case) unless the field says otherwise.
type Exposure struct {
	// Oneway lists methods that clients should call without waiting for
	// a reply (they appear in the metadata "oneway" list).
	Oneway []string
	// Attrs lists remote attributes. Attribute "x" reads an exported
	// field X, or calls a method X() / GetX(); writing calls SetX(v) or
	// sets the field. Nothing else is reachable as an attribute.
	Attrs []string
	// Names gives Go methods explicit Python names, replacing the
	// automatic snake_case one: "__dunder__": "Dunder".
	Names map[string]string
	// Params gives parameter names of methods, so that Python callers
	// can pass them as keyword arguments: "echo": {"message"}. A method
	// that takes keyword arguments is better written with an argument
	// struct (see Args), whose fields name themselves; for such a method,
	// Params names only the parameters before the struct. For a
	// variadic method, the names from the variadic parameter on name its
	// slots in order, which gives Python-style optional parameters:
	// with func (T) List(prefix string, opt ...any) and names
	// {"prefix", "regex", "sort"}, list("a", sort=True) fills slot 1 of
	// opt and leaves the skipped slot 0 at its zero value.
	Params map[string][]string
	// Hide lists Go method names that must not be exposed.
	Hide []string
	// Callback lists methods whose errors, after being returned to the
	// caller, also close the connection (Pyro's @callback).
	Callback []string
}

// Kwargs, as the last parameter of a method or as a field of an
// argument struct (see Args), receives the keyword arguments that no
// named parameter took. Proxies send a Kwargs field's entries as keyword
// arguments.
type Kwargs map[string]any

var (
	ctxType    = reflect.TypeFor[context.Context]()
	errType    = reflect.TypeFor[error]()
	kwargsType = reflect.TypeFor[Kwargs]()
)

// method is one exposed method, resolved once per type.
type method struct {
	name     string // Python name
	goName   string
	index    int // method index in the receiver type
	fn       reflect.Type
	hasCtx   bool
	params   []reflect.Type // parameters after ctx, before Kwargs or the argument struct
	variadic bool
	hasKw    bool
	names    []string // parameter names (may be nil)
	errOut   bool     // last result is error
	valOut   bool     // has a value result
	oneway   bool
	callback bool

	args    *argStruct // the last parameter is this argument struct (argstruct.go)
	argsPtr bool       // ... passed as a pointer
	owner   string     // the receiver type's name, for Python's error texts
}

// attr is one remote attribute.
type attr struct {
	name   string
	field  []int // field index path, or nil
	getter int   // method index or -1
	setter int   // method index or -1
}

// typeInfo is the exposure of one Go type.
type typeInfo struct {
	typ     reflect.Type
	methods map[string]*method // by Python name and Go name
	attrs   map[string]*attr
	meta    metadata
	skipped []string // exported methods that cannot be exposed, with the reason
}

// metadata is what Pyro sends in the handshake and get_metadata.
type metadata struct {
	Methods, Oneway, Attrs []string
}

// exposeType inspects a type once. It fails when two methods would get
// the same Python name, or when the Exposure names something missing.
func exposeType(t reflect.Type, ex Exposure) (*typeInfo, error) {
	ti := &typeInfo{typ: t, methods: map[string]*method{}, attrs: map[string]*attr{}}
	hidden := map[string]bool{"PyroExpose": true}
	for _, h := range ex.Hide {
		hidden[h] = true
	}
	for name := range syncPromoted(t) {
		hidden[name] = true
	}
	// attributes first: their accessor methods are not exposed as methods
	for _, a := range ex.Attrs {
		at := &attr{name: a, getter: -1, setter: -1}
		camel := py.Camel(a)
		if st := derefStruct(t); st != nil {
			if f, ok := st.FieldByName(camel); ok && f.IsExported() {
				at.field = f.Index
			}
		}
		for _, g := range []string{camel, "Get" + camel} {
			if m, ok := t.MethodByName(g); ok && m.Type.NumIn() == 1 && m.Type.NumOut() >= 1 {
				at.getter = m.Index
				hidden[g] = true
				break
			}
		}
		if m, ok := t.MethodByName("Set" + camel); ok && m.Type.NumIn() == 2 {
			at.setter = m.Index
			hidden["Set"+camel] = true
		}
		if at.field == nil && at.getter < 0 {
			return nil, fmt.Errorf("pyro: %v: attribute %q has no field %s and no method %s or Get%s", t, a, camel, camel, camel)
		}
		ti.attrs[a] = at
		ti.meta.Attrs = append(ti.meta.Attrs, a)
	}
	aliases := map[string][]string{}
	for py, goName := range ex.Names {
		aliases[goName] = append(aliases[goName], py)
	}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !m.IsExported() || hidden[m.Name] {
			continue
		}
		md, err := describeMethod(m)
		if err != nil {
			// not callable remotely (e.g. takes a func): not exposed, and
			// said so at registration
			ti.skipped = append(ti.skipped, m.Name+": "+err.Error())
			continue
		}
		md.name = py.Snake(m.Name)
		md.names = ex.Params[md.name]
		md.owner = typeNameOf(t)
		if err := md.checkParamNames(); err != nil {
			return nil, fmt.Errorf("pyro: %v: %w", t, err)
		}
		names := []string{md.name}
		if a := aliases[m.Name]; len(a) > 0 {
			names = a // explicit Python names replace the automatic one
		}
		for _, n := range names {
			if old, dup := ti.methods[n]; dup && old.goName != m.Name {
				return nil, fmt.Errorf("pyro: %v: methods %s and %s both map to Python name %q", t, old.goName, m.Name, n)
			}
			cp := *md
			cp.name = n
			ti.methods[n] = &cp
			ti.meta.Methods = append(ti.meta.Methods, n)
		}
		if _, dup := ti.methods[m.Name]; !dup {
			ti.methods[m.Name] = md
		}
	}
	for py := range ex.Names {
		if _, ok := ti.methods[py]; !ok {
			return nil, fmt.Errorf("pyro: %v: Names maps %q to a method that is missing or not callable", t, py)
		}
	}
	for _, o := range ex.Oneway {
		m, ok := ti.methods[o]
		if !ok {
			return nil, fmt.Errorf("pyro: %v: oneway method %q does not exist", t, o)
		}
		m.oneway = true
		ti.meta.Oneway = append(ti.meta.Oneway, o)
	}
	for _, c := range ex.Callback {
		m, ok := ti.methods[c]
		if !ok {
			return nil, fmt.Errorf("pyro: %v: callback method %q does not exist", t, c)
		}
		m.callback = true
	}
	slices.Sort(ti.meta.Methods)
	return ti, nil
}

// syncPromoted returns the names of the methods that t gets from embedded
// fields of the sync and sync/atomic packages (a struct embedding
// sync.Mutex has Lock and Unlock). They are never exposed: a client that
// could call lock() would deadlock the object for everyone.
func syncPromoted(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	var walk func(st reflect.Type, depth int)
	walk = func(st reflect.Type, depth int) {
		if st == nil || depth > 8 {
			return
		}
		for i := 0; i < st.NumField(); i++ {
			f := st.Field(i)
			if !f.Anonymous {
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if pkg := ft.PkgPath(); pkg == "sync" || pkg == "sync/atomic" {
				for _, mt := range []reflect.Type{ft, reflect.PointerTo(ft)} {
					for j := 0; j < mt.NumMethod(); j++ {
						out[mt.Method(j).Name] = true
					}
				}
				continue
			}
			walk(derefStruct(ft), depth+1)
		}
	}
	walk(derefStruct(t), 0)
	return out
}

func derefStruct(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return t
	}
	return nil
}

func describeMethod(m reflect.Method) (*method, error) {
	ft := m.Type // receiver is In(0)
	md := &method{goName: m.Name, index: m.Index, fn: ft, variadic: ft.IsVariadic()}
	in := make([]reflect.Type, 0, ft.NumIn())
	for i := 1; i < ft.NumIn(); i++ {
		in = append(in, ft.In(i))
	}
	if len(in) > 0 && in[0] == ctxType {
		md.hasCtx = true
		in = in[1:]
	}
	if len(in) > 0 && in[len(in)-1] == kwargsType && !md.variadic {
		md.hasKw = true
		in = in[:len(in)-1]
	}
	for i, p := range in {
		switch p.Kind() {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			return nil, fmt.Errorf("parameter %d has type %v, which no Python value converts to", i+1, p)
		}
		if !isArgStructParam(p) {
			continue
		}
		if i != len(in)-1 || md.variadic || md.hasKw {
			return nil, fmt.Errorf("parameter %d is an argument struct (pyro.Args), which must be the last parameter (give it a pyro.Kwargs field for extra keywords)", i+1)
		}
		st := p
		if md.argsPtr = p.Kind() == reflect.Pointer; md.argsPtr {
			st = p.Elem()
		}
		as, err := argStructOf(st)
		if err != nil {
			return nil, err
		}
		md.args = as
		in = in[:i]
	}
	md.params = in
	switch ft.NumOut() {
	case 0:
	case 1:
		if ft.Out(0) == errType {
			md.errOut = true
		} else {
			md.valOut = true
		}
	case 2:
		if ft.Out(1) != errType {
			return nil, fmt.Errorf("its second result is %v, not error", ft.Out(1))
		}
		md.valOut, md.errOut = true, true
	default:
		return nil, fmt.Errorf("it has %d results (at most a value and an error)", ft.NumOut())
	}
	return md, nil
}

// isPrivateName is Pyro's rule: names starting with "_" are private,
// except "__dunder__" names longer than 4 characters, and Pyro's list of
// reserved dunders is always private.
func isPrivateName(name string) bool {
	if reservedDunders[name] {
		return true
	}
	if !strings.HasPrefix(name, "_") {
		return false
	}
	return !(len(name) > 4 && strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__"))
}

var reservedDunders = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`__bool__ __call__ __class__ __cmp__ __coerce__ __copy__ __deepcopy__ __del__ __delattr__
__dir__ __enter__ __eq__ __exit__ __format__ __ge__ __getattr__ __getattribute__ __getinitargs__ __getnewargs__ __getstate__
__getstate_for_dict__ __gt__ __hasattr__ __hash__ __init__ __init_subclass__ __instancecheck__ __le__ __lt__ __module__ __ne__
__new__ __nonzero__ __reduce__ __reduce_ex__ __repr__ __setattr__ __setstate__ __setstate_from_dict__ __sizeof__ __str__
__subclasscheck__ __subclasshook__ __unicode__ __weakref__`) {
		m[n] = true
	}
	return m
}()

// isSeq reports whether a result value is a stream source (iter.Seq[T],
// a receive-capable channel).
func isSeq(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Chan && t.ChanDir()&reflect.RecvDir != 0:
		return !v.IsNil()
	case t.Kind() == reflect.Func && t.NumIn() == 1 && t.NumOut() == 0:
		y := t.In(0)
		return y.Kind() == reflect.Func && y.NumIn() == 1 && y.NumOut() == 1 && y.Out(0).Kind() == reflect.Bool && !v.IsNil()
	}
	return false
}

// seqOf returns a stream source (see isSeq) as an iter.Seq[any]. A
// channel stream also ends when done is closed, so a channel that is never
// closed does not hold the stream's goroutine after the stream ends.
func seqOf(v reflect.Value, done <-chan struct{}) (iter.Seq[any], bool) {
	if !v.IsValid() {
		return nil, false
	}
	t := v.Type()
	switch {
	case t.Kind() == reflect.Chan && t.ChanDir()&reflect.RecvDir != 0:
		if v.IsNil() {
			return nil, false
		}
		return func(yield func(any) bool) {
			cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: v}, {Dir: reflect.SelectRecv, Chan: reflect.ValueOf(done)}}
			for {
				i, x, ok := reflect.Select(cases)
				if i == 1 || !ok || !yield(x.Interface()) {
					return
				}
			}
		}, true
	case t.Kind() == reflect.Func && t.NumIn() == 1 && t.NumOut() == 0:
		y := t.In(0)
		if y.Kind() != reflect.Func || y.NumIn() != 1 || y.NumOut() != 1 || y.Out(0).Kind() != reflect.Bool {
			return nil, false
		}
		if v.IsNil() {
			return nil, false
		}
		return func(yield func(any) bool) {
			fn := reflect.MakeFunc(y, func(args []reflect.Value) []reflect.Value {
				return []reflect.Value{reflect.ValueOf(yield(args[0].Interface()))}
			})
			v.Call([]reflect.Value{fn})
		}, true
	}
	return nil, false
}

// exposesSomething is the registration rule: a value must expose at least
// one method or remote attribute, or no client could do anything with it
// (Pyro's proxies refuse such objects: "remote object doesn't expose any
// methods or attributes"). Types with only remote attributes (Exposure.Attrs)
// are fine. The error names the methods that were left out and why, and
// points at pointer receivers when the value is not a pointer.
func exposesSomething(ti *typeInfo) error {
	if len(ti.meta.Methods) > 0 || len(ti.meta.Attrs) > 0 {
		return nil
	}
	msg := fmt.Sprintf("cannot register a %v: it has no exported method that can be called remotely and no remote attribute", ti.typ)
	if ti.typ.Kind() != reflect.Pointer && reflect.PointerTo(ti.typ).NumMethod() > ti.typ.NumMethod() {
		msg += fmt.Sprintf(" (the methods of %v have pointer receivers: register a pointer)", reflect.PointerTo(ti.typ))
	}
	if len(ti.skipped) > 0 {
		msg += "; not exposable: " + strings.Join(ti.skipped, "; ")
	}
	return NewError(ErrDaemon, msg)
}
