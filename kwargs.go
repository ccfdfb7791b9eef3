package pyro

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/pyrogo/pyro/py"
)

// Keyword arguments as a proxy sends them: the kwargs of CallKwT and
// CallStreamKw, a map or an argument struct (argstruct.go), made into the
// call's dict.

// kwargsDict makes the keyword arguments of a call from kwargs: nil (no
// keywords), a map with string keys (Kwargs and map[string]any included),
// a *py.Dict with str keys, or an argument struct or a pointer to one
// (nil: no keywords). Map entries are sent in the order of their keys.
func kwargsDict(kwargs any) (*py.Dict, error) {
	switch kw := kwargs.(type) {
	case nil:
		return noKwargs, nil
	case map[string]any:
		return stringMapDict(kw), nil
	case Kwargs:
		return stringMapDict(kw), nil
	case *py.Dict:
		if kw == nil {
			return noKwargs, nil
		}
		if !kw.StringKeys() {
			return nil, NewError(ErrSerialize, "keyword arguments: a *py.Dict with a key that is not a str")
		}
		return kw, nil
	}
	v := reflect.ValueOf(kwargs)
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, NewError(ErrSerialize, fmt.Sprintf("keyword arguments: a %v, whose keys are not strings", v.Type()))
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
		d := py.NewDict(len(keys))
		for _, k := range keys {
			d.SetString(k.String(), v.MapIndex(k).Interface())
		}
		return d, nil
	case reflect.Pointer:
		if v.Type().Elem().Kind() != reflect.Struct {
			break
		}
		if v.IsNil() {
			return noKwargs, nil
		}
		v = v.Elem()
		fallthrough
	case reflect.Struct:
		as, err := argStructOf(v.Type())
		if err != nil {
			return nil, wrapError(ErrSerialize, "keyword arguments: "+err.Error(), err)
		}
		if as == nil {
			return nil, NewError(ErrSerialize, fmt.Sprintf("keyword arguments: %v is not an argument struct (it does not embed pyro.Args)", v.Type()))
		}
		return as.kwargs(v)
	}
	return nil, NewError(ErrSerialize, fmt.Sprintf("keyword arguments: %T is neither a map with string keys nor an argument struct", kwargs))
}

// kwargs makes the keyword arguments that the argument struct v holds:
// every required field, the optional ones that are not nil or zero, and
// the entries of its Kwargs field.
func (as *argStruct) kwargs(v reflect.Value) (*py.Dict, error) {
	d := py.NewDict(len(as.fields))
	for _, f := range as.fields {
		fv := v.FieldByIndex(f.index)
		if f.optional && fv.IsZero() {
			continue // not given: the remote default applies
		}
		d.SetString(f.name, fv.Interface())
	}
	if as.rest == nil {
		return d, nil
	}
	rest := v.FieldByIndex(as.rest).Interface().(Kwargs)
	for _, k := range slices.Sorted(maps.Keys(rest)) {
		if _, dup := d.GetString(k); dup {
			return nil, NewError(ErrSerialize, fmt.Sprintf("keyword arguments: %q is both a field of %v and in its Kwargs", k, as.typ))
		}
		d.SetString(k, rest[k])
	}
	return d, nil
}

// stringMapDict makes a dict of m, in the order of its keys.
func stringMapDict[M ~map[string]any](m M) *py.Dict {
	if len(m) == 0 {
		return noKwargs
	}
	d := py.NewDict(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d.SetString(k, m[k])
	}
	return d
}
