package pyro

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/pyrogo/pyro/py"
)

// Argument building: a call's Python arguments, positional and keyword,
// converted to the method's Go parameters with Python's rules and texts
// for missing, repeated and unexpected arguments.

// buildArgs converts Python arguments to the method's parameter types.
func buildArgs(ctx context.Context, m *method, args []any, kwargs *py.Dict, conv py.ConvertOptions) ([]reflect.Value, error) {
	if m.args != nil {
		return buildStructArgs(ctx, m, args, kwargs, conv) // argbind.go
	}
	nfixed := len(m.params)
	if m.variadic {
		nfixed--
	}
	vals := make([]any, len(m.params))
	set := make([]bool, len(m.params))
	if len(args) > nfixed && !m.variadic {
		return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() takes %d positional arguments but %d were given", m.name, nfixed, len(args))}
	}
	var extra []any
	var extraSet []bool // variadic slots given (positionally or by keyword)
	for i, a := range args {
		if i < nfixed {
			vals[i], set[i] = a, true
		} else {
			extra = append(extra, a)
			extraSet = append(extraSet, true)
		}
	}
	var kw Kwargs
	for i := 0; i < kwargs.Len(); i++ {
		k, _ := kwargs.Key(i).(string)
		v := kwargs.Value(i)
		pos := -1
		for j, n := range m.names {
			if n == k && (j < len(m.params) || m.variadic) {
				pos = j
			}
		}
		if m.variadic && pos >= nfixed {
			// names past the fixed parameters name the variadic slots
			slot := pos - nfixed
			if slot < len(extra) && extraSet[slot] {
				return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got multiple values for argument '%s'", m.name, k)}
			}
			for len(extra) <= slot {
				extra = append(extra, nil)
				extraSet = append(extraSet, false)
			}
			extra[slot], extraSet[slot] = v, true
			continue
		}
		switch {
		case pos >= 0 && set[pos]:
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got multiple values for argument '%s'", m.name, k)}
		case pos >= 0:
			vals[pos], set[pos] = v, true
		case m.hasKw:
			if kw == nil {
				kw = Kwargs{}
			}
			kw[k] = v
		default:
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() got an unexpected keyword argument '%s'", m.name, k)}
		}
	}
	in := make([]reflect.Value, 0, len(m.params)+2)
	if m.hasCtx {
		in = append(in, reflect.ValueOf(ctx))
	}
	for i := 0; i < nfixed; i++ {
		if !set[i] {
			name := strconv.Itoa(i + 1)
			if i < len(m.names) {
				name = "'" + m.names[i] + "'"
			}
			return nil, &PythonError{Class: "TypeError", Msg: fmt.Sprintf("%s() missing required argument %s", m.name, name)}
		}
		p := reflect.New(m.params[i]).Elem()
		if err := conv.ConvertValue(p, vals[i]); err != nil {
			return nil, prefixArg(err, i+1)
		}
		in = append(in, p)
	}
	if m.variadic {
		st := m.params[len(m.params)-1]
		sl := reflect.MakeSlice(st, len(extra), len(extra))
		for i, a := range extra {
			if !extraSet[i] {
				continue // a skipped slot keeps the zero value
			}
			if err := conv.ConvertValue(sl.Index(i), a); err != nil {
				return nil, prefixArg(err, nfixed+i+1)
			}
		}
		in = append(in, sl)
	}
	if m.hasKw {
		if kw == nil {
			kw = Kwargs{}
		}
		in = append(in, reflect.ValueOf(kw))
	}
	return in, nil
}

func prefixArg(err error, n int) error {
	var ce *py.ConvertError
	if errors.As(err, &ce) {
		return &PythonError{Class: "TypeError", Msg: "arg " + strconv.Itoa(n) + ": " + ce.Error()}
	}
	return &PythonError{Class: "TypeError", Msg: "arg " + strconv.Itoa(n) + ": " + err.Error()}
}
