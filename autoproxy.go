package pyro

import (
	"reflect"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// Autoproxying (AUTOPROXY, on by default as in Pyro): a registered object
// in a result travels as a proxy reference to it, not as its value.

// autoproxy replaces registered objects in a result by proxy references.
func (d *Daemon) autoproxy(v any) any {
	if !d.cfg.AutoProxy {
		return v
	}
	out, _ := d.autoproxyValue(v)
	return out
}

// autoproxyValue does autoproxy's work and reports whether it replaced
// anything (results may hold uncomparable values such as py.Tuple, so
// "changed" cannot be found by comparing interfaces).
//
// Like Pyro's serializer hook, it finds registered objects at any depth
// of lists, tuples, dict values, and Go slices, arrays and maps whose
// elements may hold pointers (a changed Go slice becomes a list, a
// changed Go map a map[K]any). Struct fields are not searched.
func (d *Daemon) autoproxyValue(v any) (any, bool) {
	return d.autoproxyDepth(v, 0)
}

func (d *Daemon) autoproxyDepth(v any, depth int) (any, bool) {
	if v == nil || depth > py.DefaultMaxDepth {
		return v, false
	}
	switch x := v.(type) {
	case []any:
		return d.autoproxyList(x, depth)
	case py.Tuple:
		if out, changed := d.autoproxyList(x, depth); changed {
			return py.Tuple(out.([]any)), true
		}
		return v, false
	case *py.Dict:
		var out *py.Dict
		for i := 0; i < x.Len(); i++ {
			p, changed := d.autoproxyDepth(x.Value(i), depth+1)
			if changed && out == nil {
				out = py.NewDict(x.Len())
				for j := 0; j < i; j++ {
					_ = out.Set(x.Key(j), x.Value(j))
				}
			}
			if out != nil {
				_ = out.Set(x.Key(i), p)
			}
		}
		if out != nil {
			return out, true
		}
		return v, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.Type().Comparable() {
			return v, false
		}
		d.mu.RLock()
		id, ok := d.byValue[v]
		d.mu.RUnlock()
		if ok {
			return d.proxyRef(id), true
		}
	case reflect.Slice, reflect.Array:
		if !mayHoldPointer(rv.Type().Elem(), 0) {
			return v, false
		}
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = rv.Index(i).Interface()
		}
		if out, changed := d.autoproxyList(l, depth); changed {
			return out, true
		}
	case reflect.Map:
		if !mayHoldPointer(rv.Type().Elem(), 0) {
			return v, false
		}
		changedAny := false
		for it := rv.MapRange(); it.Next() && !changedAny; {
			_, changedAny = d.autoproxyDepth(it.Value().Interface(), depth+1)
		}
		if !changedAny {
			return v, false
		}
		out := reflect.MakeMapWithSize(reflect.MapOf(rv.Type().Key(), reflect.TypeFor[any]()), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			p, _ := d.autoproxyDepth(it.Value().Interface(), depth+1)
			out.SetMapIndex(it.Key(), reflect.ValueOf(&p).Elem())
		}
		return out.Interface(), true
	}
	return v, false
}

// autoproxyList replaces registered objects in a list; it returns a new
// []any only when something changed.
func (d *Daemon) autoproxyList(l []any, depth int) (any, bool) {
	var out []any
	for i, e := range l {
		if p, changed := d.autoproxyDepth(e, depth+1); changed {
			if out == nil {
				out = append([]any(nil), l...)
			}
			out[i] = p
		}
	}
	if out != nil {
		return out, true
	}
	return l, false
}

// mayHoldPointer reports whether values of type t can hold a pointer to a
// registered object where autoproxy looks for one.
func mayHoldPointer(t reflect.Type, depth int) bool {
	if depth > 32 {
		return true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		return true
	case reflect.Slice, reflect.Array, reflect.Map:
		return mayHoldPointer(t.Elem(), depth+1)
	}
	return false
}

func (d *Daemon) proxyRef(id string) *codec.ProxyRef {
	r := d.lookup(id)
	p := &codec.ProxyRef{URI: d.URIFor(id), Handshake: "hello"}
	if r != nil {
		p.Methods, p.Oneway, p.Attrs = r.ti.meta.Methods, r.ti.meta.Oneway, r.ti.meta.Attrs
	}
	return p
}
