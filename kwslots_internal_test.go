package pyro

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// optObj has Python-style optional parameters through a variadic slice.
type optObj struct{}

func (optObj) PyroExpose() Exposure {
	return Exposure{Params: map[string][]string{"find": {"name", "regex", "limit", "sort"}}}
}

func (optObj) Find(name string, opt ...any) []any { return append([]any{name}, opt...) }

// Keyword arguments named after the variadic parameter fill its slots
// in order; skipped slots keep the zero value.
func TestKeywordVariadicSlots(t *testing.T) {
	ti, err := exposeType(reflect.TypeFor[optObj](), optObj{}.PyroExpose())
	if err != nil {
		t.Fatal(err)
	}
	m := ti.methods["find"]
	call := func(args []any, kw ...any) ([]any, error) {
		in, err := buildArgs(context.Background(), m, args, py.DictOf(kw...), py.ConvertOptions{})
		if err != nil {
			return nil, err
		}
		out := reflect.ValueOf(optObj{}).Method(m.index).CallSlice(in)
		return out[0].Interface().([]any), nil
	}
	for _, tc := range []struct {
		args []any
		kw   []any
		want string
	}{
		{[]any{"n"}, nil, "[n]"},
		{[]any{"n", "r"}, nil, "[n r]"},
		{[]any{"n"}, []any{"sort", true}, "[n <nil> <nil> true]"},
		{nil, []any{"name", "n", "limit", int64(3)}, "[n <nil> 3]"},
		{[]any{"n", "r"}, []any{"sort", false}, "[n r <nil> false]"},
	} {
		got, err := call(tc.args, tc.kw...)
		if err != nil {
			t.Errorf("%v %v: %v", tc.args, tc.kw, err)
			continue
		}
		if fmtSlice(got) != tc.want {
			t.Errorf("%v %v: %s, want %s", tc.args, tc.kw, fmtSlice(got), tc.want)
		}
	}
	if _, err := call([]any{"n", "r"}, "regex", "again"); err == nil || !strings.Contains(err.Error(), "got multiple values for argument 'regex'") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := call([]any{"n"}, "bogus", 1); err == nil || !strings.Contains(err.Error(), "unexpected keyword argument 'bogus'") {
		t.Errorf("unknown keyword: %v", err)
	}
}

func fmtSlice(v []any) string {
	parts := make([]string, len(v))
	for i, x := range v {
		if x == nil {
			parts[i] = "<nil>"
		} else {
			parts[i] = fmt.Sprint(x)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
