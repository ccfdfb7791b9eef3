package pyro

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pyrogo/pyro/py"
)

// Method resolution: which Go method a Python name reaches, with Pyro's
// rules (private names, DOTTEDNAMES) and Pyro's error texts.

// resolved is a method ready to call, possibly on an object reached
// through a dotted name.
type resolved interface{ resolvedMethod() (*method, any) }

func (m *method) resolvedMethod() (*method, any) { return m, nil }

// dottedMethod is a method of an object reached through exported fields.
type dottedMethod struct {
	method *method
	target any
}

func (d *dottedMethod) resolvedMethod() (*method, any) { return d.method, d.target }

// walkDotted follows "a.b.method" through exported struct fields of obj
// (DOTTEDNAMES; unsafe, off by default). Private names are refused at
// every step.
func walkDotted(obj any, name string) (any, string, error) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" || isPrivateName(p) {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access private attribute '%s'", p)}
		}
	}
	v := reflect.ValueOf(obj)
	for _, p := range parts[:len(parts)-1] {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'NoneType' object has no attribute '%s'", p)}
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("cannot traverse '%s' in '%s'", p, name)}
		}
		f, ok := v.Type().FieldByName(py.Camel(p))
		if !ok || !f.IsExported() {
			return nil, "", &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", v.Type().Name(), p)}
		}
		v = v.FieldByIndex(f.Index)
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() || !v.IsValid() {
		return nil, "", &PythonError{Class: "AttributeError", Msg: "'NoneType' object has no attribute '" + parts[len(parts)-1] + "'"}
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		v = v.Addr()
	}
	return v.Interface(), parts[len(parts)-1], nil
}

func (m *method) methodValue(obj any) reflect.Value {
	return reflect.ValueOf(obj).Method(m.index)
}

// resolve finds the method for a Python name with Pyro's rules and
// messages.
func (dc *dispatcher) resolve(r *registration, obj any, name string) (resolved, error) {
	if isPrivateName(name) {
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access private attribute '%s'", name)}
	}
	ti := r.ti
	if strings.Contains(name, ".") {
		if !dc.d.cfg.DottedNames {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
		}
		target, last, err := walkDotted(obj, name)
		if err != nil {
			return nil, err
		}
		if ti, err = dc.d.typeInfo(target); err != nil {
			return nil, err
		}
		obj, name = target, last
		if m, ok := ti.methods[name]; ok {
			return &dottedMethod{method: m, target: target}, nil
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
	}
	m, ok := ti.methods[name]
	if !ok {
		if _, isAttr := r.ti.attrs[name]; isAttr {
			return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("attempt to access unexposed attribute '%s'", name)}
		}
		return nil, &PythonError{Class: "AttributeError", Msg: fmt.Sprintf("'%s' object has no attribute '%s'", typeName(obj), name)}
	}
	return m, nil
}

func typeName(obj any) string { return typeNameOf(reflect.TypeOf(obj)) }

// typeNameOf is the name of t, or of what t points to.
func typeNameOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
