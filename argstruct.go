package pyro

import (
	"encoding"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pyrogo/pyro/py"
)

// Argument structs: a struct that embeds Args is a parameter list, one
// parameter per field. This file holds the marker and the field table,
// which both sides share: the daemon binds a call's arguments to it
// (argbind.go), a proxy sends one as keyword arguments (kwargs.go).

// Args marks an argument struct: a struct that embeds Args is a list of
// Python parameters, one per field, rather than a value that travels as
// a dict. It is how a Go method takes keyword arguments:
//
//	type ListArgs struct {
//		pyro.Args
//		Prefix string                   // list(prefix, ...): required
//		Regex  *string                  // optional: nil when not given
//		Limit  int    `pyro:",optional"` // optional: 0 when not given
//		Sort   bool   `pyro:"sorted,optional"`
//	}
//
//	func (s *Store) List(ctx context.Context, a ListArgs) ([]string, error)
//
// A Python client calls it as store.list("a"), store.list("a", "b.*",
// sorted=True) or store.list(prefix="a", limit=3).
//
// When the last parameter of a method (after an optional context.Context
// first) is an argument struct or a pointer to one, the daemon fills it
// with Python's rules: positional arguments fill the fields in their
// order, keyword arguments the field of that name, and what Python would
// refuse is the TypeError Python raises, in Python's words ("Store.list()
// missing 1 required positional argument: 'prefix'", "got multiple values
// for argument", "got an unexpected keyword argument", "takes from 2 to 5
// positional arguments but 6 were given"; like Python's, the counts
// include self). Parameters before the struct are positional, or keywords
// too when Exposure.Params names them.
//
// The fields, in declaration order:
//
//   - A field's Python name is the name in its `pyro:"name"` tag, else
//     the snake_case form of its Go name (Prefix as prefix, MaxAge as
//     max_age). `pyro:"-"` and unexported fields are no parameters.
//   - Pointer fields, and fields tagged optional (`pyro:",optional"`,
//     `pyro:"name,optional"`), are optional: nil or the zero value when
//     the caller leaves them out. The others are required. As in Python,
//     optional parameters come after the required ones.
//   - A field of type Kwargs receives the keyword arguments that no field
//     takes (Python's **kwargs; nil when there are none); without one,
//     such a keyword is a TypeError.
//   - An embedded struct without a tag name contributes its fields in its
//     place, so that parameters shared by several methods can be declared
//     once.
//
// Values are converted to the field types as method parameters are (see
// py.ConvertValue). A type that breaks these rules (two fields with one
// Python name, a required field after an optional one, an embedded
// *Args, an unknown tag option) is refused when it is registered, naming
// the field.
//
// Proxies send argument structs as keyword arguments (CallKwT,
// CallStreamKw) with the same names: nil pointers and optional fields
// holding their zero value are left out, so that the remote default
// applies, and a Kwargs field's entries go along. One type can so
// describe a method for both its Go server and its Go clients.
type Args struct{}

var (
	argsType    = reflect.TypeFor[Args]()
	argsPtrType = reflect.TypeFor[*Args]()
)

// argField is one parameter of an argument struct.
type argField struct {
	name     string // Python name
	goName   string // the field's Go name
	index    []int  // index path in the struct, through embedded structs
	optional bool
}

// argStruct is the parameter table of an argument struct type.
type argStruct struct {
	typ    reflect.Type
	fields []argField
	byName map[string]int // Python name -> position in fields
	rest   []int          // index path of the Kwargs field; nil: none
}

type argStructEntry struct {
	as  *argStruct
	err error
}

var argStructCache sync.Map // reflect.Type -> argStructEntry

// argStructOf returns the parameter table of t when t is an argument
// struct, nil when it is not, and an error when it is one that breaks the
// rules. Tables are built once per type.
func argStructOf(t reflect.Type) (*argStruct, error) {
	if t.Kind() != reflect.Struct {
		return nil, nil
	}
	if e, ok := argStructCache.Load(t); ok {
		e := e.(argStructEntry)
		return e.as, e.err
	}
	var e argStructEntry
	if embedsArgs(t) {
		e.as, e.err = buildArgStruct(t)
	}
	v, _ := argStructCache.LoadOrStore(t, e)
	e = v.(argStructEntry)
	return e.as, e.err
}

// isArgStructParam reports whether a parameter type is an argument
// struct or a pointer to one.
func isArgStructParam(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && embedsArgs(t)
}

// embedsArgs reports whether st embeds Args (or, wrongly, *Args) itself
// or through embedded structs that contribute their fields.
func embedsArgs(st reflect.Type) bool {
	for i := range st.NumField() {
		sf := st.Field(i)
		if !sf.Anonymous {
			continue
		}
		switch {
		case sf.Type == argsType || sf.Type == argsPtrType:
			return true
		case sf.Type.Kind() == reflect.Struct && flattens(sf) && embedsArgs(sf.Type):
			return true
		}
	}
	return false
}

// flattens reports whether an embedded struct field contributes its
// fields rather than being a parameter itself.
func flattens(sf reflect.StructField) bool {
	tag := sf.Tag.Get("pyro")
	name, _, _ := strings.Cut(tag, ",")
	return tag != "-" && name == "" && !convertsWhole(sf.Type)
}

// convertsWhole reports whether values of struct type t are converted as
// one value (from a str, an int, ...), not field by field.
func convertsWhole(t reflect.Type) bool {
	switch t {
	case reflect.TypeFor[time.Time](), reflect.TypeFor[big.Int](), reflect.TypeFor[big.Float](),
		reflect.TypeFor[py.Dict](), reflect.TypeFor[py.Set](), reflect.TypeFor[py.Exception]():
		return true
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(reflect.TypeFor[py.Unmarshaler]()) || pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// buildArgStruct builds the table of an argument struct type.
func buildArgStruct(t reflect.Type) (*argStruct, error) {
	as := &argStruct{typ: t, byName: map[string]int{}}
	var firstOptional string
	var walk func(st reflect.Type, prefix []int) error
	walk = func(st reflect.Type, prefix []int) error {
		for i := range st.NumField() {
			sf := st.Field(i)
			tag := sf.Tag.Get("pyro")
			if tag == "-" {
				continue
			}
			index := append(slices.Clone(prefix), i)
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous {
				ft := sf.Type
				switch {
				case ft == argsType:
					continue
				case ft == argsPtrType:
					return fmt.Errorf("it embeds *pyro.Args: embed pyro.Args")
				case ft.Kind() == reflect.Struct && flattens(sf):
					if err := walk(ft, index); err != nil {
						return err
					}
					continue
				case name == "" && ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
					return fmt.Errorf("it embeds %v: embed the struct, not a pointer to it", ft)
				case name == "" && ft.Kind() == reflect.Struct:
					return fmt.Errorf("it embeds %v, which converts as one value: give the field a name", ft)
				}
			}
			if !sf.IsExported() {
				continue
			}
			if sf.Type == kwargsType {
				if as.rest != nil {
					return fmt.Errorf("it has two pyro.Kwargs fields")
				}
				as.rest = index
				continue
			}
			switch sf.Type.Kind() {
			case reflect.Func, reflect.Chan, reflect.UnsafePointer:
				return fmt.Errorf("field %s has type %v, which no Python value converts to", sf.Name, sf.Type)
			}
			f := argField{name: name, goName: sf.Name, index: index, optional: sf.Type.Kind() == reflect.Pointer}
			for opt := range strings.SplitSeq(opts, ",") {
				switch opt {
				case "":
				case "optional":
					f.optional = true
				default:
					return fmt.Errorf("field %s: unknown option %q in its pyro tag (an argument field takes a name and \"optional\")", sf.Name, opt)
				}
			}
			if f.name == "" {
				f.name = py.Snake(sf.Name)
			}
			if j, dup := as.byName[f.name]; dup {
				return fmt.Errorf("fields %s and %s both have the Python name %q", as.fields[j].goName, sf.Name, f.name)
			}
			switch {
			case f.optional && firstOptional == "":
				firstOptional = sf.Name
			case !f.optional && firstOptional != "":
				return fmt.Errorf("required field %s follows optional field %s (as in Python, optional parameters come last)", sf.Name, firstOptional)
			}
			as.byName[f.name] = len(as.fields)
			as.fields = append(as.fields, f)
		}
		return nil
	}
	if err := walk(t, nil); err != nil {
		return nil, fmt.Errorf("argument struct %v: %w", t, err)
	}
	return as, nil
}

// required returns the number of required fields (they come first).
func (as *argStruct) required() int {
	for i, f := range as.fields {
		if f.optional {
			return i
		}
	}
	return len(as.fields)
}
