package pyro

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pyrogo/pyro/py"
)

// Binding a call's arguments to a method whose last parameter is an
// argument struct (argstruct.go), in the order CPython binds them:
// positional arguments fill the parameters in order, then each keyword
// its parameter; then too many positional arguments, then missing ones,
// are refused with Python's texts. Only then are the values converted.

// checkParamNames checks the Exposure.Params names of a method with an
// argument struct: they name the parameters before the struct, and must
// not be a field's name too.
func (m *method) checkParamNames() error {
	if m.args == nil {
		return nil
	}
	if len(m.names) > len(m.params) {
		return fmt.Errorf("the Params of %s name %d parameters, but it has %d before its argument struct", m.goName, len(m.names), len(m.params))
	}
	for _, n := range m.names {
		if _, dup := m.args.byName[n]; dup {
			return fmt.Errorf("the Params of %s name parameter %q, which is a field of its argument struct %v too", m.goName, n, m.args.typ)
		}
	}
	return nil
}

// argSlot is one parameter's argument while a call is bound.
type argSlot struct {
	v   any
	set bool
}

// buildStructArgs is buildArgs for a method with an argument struct.
func buildStructArgs(ctx context.Context, m *method, args []any, kwargs *py.Dict, conv py.ConvertOptions) ([]reflect.Value, error) {
	as := m.args
	nplain := len(m.params)
	n := nplain + len(as.fields)
	var buf [8]argSlot // most methods have few parameters
	slots := buf[:0]
	if n > len(buf) {
		slots = make([]argSlot, 0, n)
	}
	slots = slots[:n]
	for i := 0; i < len(args) && i < n; i++ {
		slots[i] = argSlot{v: args[i], set: true}
	}
	var rest Kwargs
	for i := 0; i < kwargs.Len(); i++ {
		k, ok := kwargs.Key(i).(string)
		if !ok {
			return nil, m.typeError("keywords must be strings")
		}
		j := m.slotOf(k)
		switch {
		case j >= 0 && slots[j].set:
			return nil, m.typeError("got multiple values for argument '" + k + "'")
		case j >= 0:
			slots[j] = argSlot{v: kwargs.Value(i), set: true}
		case as.rest != nil:
			if rest == nil {
				rest = Kwargs{}
			}
			rest[k] = kwargs.Value(i)
		default:
			return nil, m.typeError("got an unexpected keyword argument '" + k + "'")
		}
	}
	required := nplain + as.required()
	if len(args) > n {
		// as Python words it for a method: self is counted
		takes := strconv.Itoa(n+1) + " positional argument"
		switch {
		case required != n:
			takes = fmt.Sprintf("from %d to %d positional arguments", required+1, n+1)
		case n+1 != 1:
			takes += "s"
		}
		return nil, m.typeError(fmt.Sprintf("takes %s but %d were given", takes, len(args)+1))
	}
	var missing []string
	for j := range required {
		if !slots[j].set {
			missing = append(missing, "'"+m.slotName(j)+"'")
		}
	}
	if len(missing) > 0 {
		s := "s"
		if len(missing) == 1 {
			s = ""
		}
		return nil, m.typeError(fmt.Sprintf("missing %d required positional argument%s: %s", len(missing), s, pyList(missing)))
	}

	in := make([]reflect.Value, 0, nplain+2)
	if m.hasCtx {
		in = append(in, reflect.ValueOf(ctx))
	}
	for j := range nplain {
		p := reflect.New(m.params[j]).Elem()
		if err := conv.ConvertValue(p, slots[j].v); err != nil {
			return nil, m.argError(err, j, len(args))
		}
		in = append(in, p)
	}
	sp := reflect.New(as.typ)
	sv := sp.Elem()
	for i, f := range as.fields {
		sl := slots[nplain+i]
		if !sl.set {
			continue // optional: nil or zero
		}
		if err := conv.ConvertValue(sv.FieldByIndex(f.index), sl.v); err != nil {
			return nil, m.argError(err, nplain+i, len(args))
		}
	}
	if rest != nil {
		sv.FieldByIndex(as.rest).Set(reflect.ValueOf(rest))
	}
	if m.argsPtr {
		return append(in, sp), nil
	}
	return append(in, sv), nil
}

// slotOf returns the parameter a keyword names: one before the argument
// struct that Exposure.Params names, or a field. -1: none.
func (m *method) slotOf(k string) int {
	for j, n := range m.names {
		if n == k && j < len(m.params) {
			return j
		}
	}
	if i, ok := m.args.byName[k]; ok {
		return len(m.params) + i
	}
	return -1
}

// slotName is a parameter's Python name; a parameter before the argument
// struct that Exposure.Params does not name is "argN".
func (m *method) slotName(j int) string {
	switch {
	case j >= len(m.params):
		return m.args.fields[j-len(m.params)].name
	case j < len(m.names):
		return m.names[j]
	}
	return "arg" + strconv.Itoa(j+1)
}

// typeError is Python's TypeError about a call of m: "Type.method() msg".
func (m *method) typeError(msg string) error {
	qual := m.name
	if m.owner != "" {
		qual = m.owner + "." + m.name
	}
	return &PythonError{Class: "TypeError", Msg: qual + "() " + msg}
}

// argError is a conversion error of parameter j, which the call gave
// positionally when j < npos and as a keyword otherwise.
func (m *method) argError(err error, j, npos int) error {
	where := "arg " + strconv.Itoa(j+1)
	if j >= npos {
		where = "keyword argument '" + m.slotName(j) + "'"
	}
	var ce *py.ConvertError
	if errors.As(err, &ce) {
		return &PythonError{Class: "TypeError", Msg: where + ": " + ce.Error()}
	}
	return &PythonError{Class: "TypeError", Msg: where + ": " + err.Error()}
}

// pyList joins names as Python's missing-argument texts do: "'a'",
// "'a' and 'b'", "'a', 'b', and 'c'".
func pyList(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}
