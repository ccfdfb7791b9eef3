package pyro

import (
	"fmt"
	"reflect"

	"github.com/pyrogo/pyro/py"
)

// Remote attributes: __getattr__ and __setattr__ calls reach only the
// attributes a type lists in Exposure.Attrs (a field, or a getter and
// setter method), with Pyro's error texts for everything else.

// attribute runs __getattr__(name) or __setattr__(name, value) on obj,
// the instance of r.
func (dc *dispatcher) attribute(r *registration, obj any, method string, args []any) (any, error) {
	if len(args) < 1 {
		return nil, &PythonError{Class: "TypeError", Msg: method + " needs an attribute name"}
	}
	name, _ := args[0].(string)
	a, ok := r.ti.attrs[name]
	if !ok {
		if _, isMethod := r.ti.methods[name]; isMethod {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access unexposed or unknown remote attribute '%s'", name)}
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("type object '%s' has no attribute '%s'", typeName(obj), name)}
	}
	v := reflect.ValueOf(obj)
	if method == "__getattr__" {
		if a.getter >= 0 {
			out := v.Method(a.getter).Call(nil)
			if len(out) == 2 && !out[1].IsNil() {
				return nil, out[1].Interface().(error)
			}
			return dc.d.autoproxy(out[0].Interface()), nil
		}
		return reflect.Indirect(v).FieldByIndex(a.field).Interface(), nil
	}
	if len(args) != 2 {
		return nil, &PythonError{Class: "TypeError", Msg: "__setattr__ needs a name and a value"}
	}
	if a.setter >= 0 {
		m := v.Method(a.setter)
		p := reflect.New(m.Type().In(0)).Elem()
		if err := dc.d.conv.ConvertValue(p, args[1]); err != nil {
			return nil, prefixArg(err, 2)
		}
		out := m.Call([]reflect.Value{p})
		if len(out) == 1 && out[0].Type() == errType && !out[0].IsNil() {
			return nil, out[0].Interface().(error)
		}
		return nil, nil
	}
	if a.field == nil || v.Kind() != reflect.Pointer {
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("can't set attribute '%s'", name)}
	}
	f := v.Elem().FieldByIndex(a.field)
	p := reflect.New(f.Type()).Elem()
	if err := dc.d.conv.ConvertValue(p, args[1]); err != nil {
		return nil, prefixArg(err, 2)
	}
	f.Set(p)
	return nil, nil
}

// value returns the metadata dict: sets, or lists when asLists.
func (m metadata) value(asLists bool) *py.Dict {
	conv := func(names []string) any {
		if asLists {
			l := make([]any, len(names))
			for i, n := range names {
				l[i] = n
			}
			return l
		}
		s := py.NewSet(len(names), false)
		for _, n := range names {
			_ = s.Add(n)
		}
		return s
	}
	d := py.NewDict(3)
	d.SetString("methods", conv(m.Methods))
	d.SetString("oneway", conv(m.Oneway))
	d.SetString("attrs", conv(m.Attrs))
	return d
}
