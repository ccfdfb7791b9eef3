package pyro

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// The keyword arguments a proxy makes of CallKwT's kwargs: maps in key
// order, argument structs with the daemon's names, optional fields left
// out when zero.
func TestKwargsDict(t *testing.T) {
	empty := ""
	for _, tc := range []struct {
		name   string
		kwargs any
		want   string
	}{
		{"nil", nil, "{}"},
		{"map", map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"},
		{"Kwargs", Kwargs{"z": true, "y": nil}, "{'y': None, 'z': True}"},
		{"typed map", map[string]int{"n": 2, "m": 1}, "{'m': 1, 'n': 2}"},
		{"empty map", map[string]any{}, "{}"},
		{"dict", py.DictOf("k", int64(1)), "{'k': 1}"},
		{"nil dict", (*py.Dict)(nil), "{}"},
		{"struct", greetArgs{Name: "Ann"}, "{'name': 'Ann'}"},
		{"required zero, optional set", greetArgs{Greeting: "hi", Punct: &empty}, "{'name': '', 'greeting': 'hi', 'punct': ''}"},
		{"pointer", &greetArgs{Name: "Bo"}, "{'name': 'Bo'}"},
		{"nil pointer", (*greetArgs)(nil), "{}"},
		{"tags, embedded, rest", findArgs{Pattern: "a.*", MaxItems: 3, common: common{Verbose: true}, Extra: Kwargs{"y": 2, "x": 1}, private: 5, Skipped: 6},
			"{'regex': 'a.*', 'limit': 3, 'verbose': True, 'x': 1, 'y': 2}"},
		{"optional zero left out", findArgs{Pattern: "b"}, "{'regex': 'b'}"},
	} {
		d, err := kwargsDict(tc.kwargs)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := reprKwargs(t, d); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		kwargs any
		want   string
	}{
		{"int keys", map[int]any{1: 2}, "map[int]interface {}, whose keys are not strings"},
		{"dict with an int key", py.DictOf(int64(1), "x"), "a key that is not a str"},
		{"plain struct", struct{ Name string }{"x"}, "is not an argument struct (it does not embed pyro.Args)"},
		{"bad argument struct", badOrder{}, "required field B follows optional field A"},
		{"field and Kwargs", findArgs{Pattern: "a", Extra: Kwargs{"regex": "b"}}, `"regex" is both a field of pyro.findArgs and in its Kwargs`},
		{"int", 5, "int is neither a map with string keys nor an argument struct"},
		{"pointer to int", new(int), "*int is neither a map with string keys nor an argument struct"},
	} {
		_, err := kwargsDict(tc.kwargs)
		if !errors.Is(err, ErrSerialize) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a SerializeError: ...%s", tc.name, err, tc.want)
		}
	}
}

// reprKwargs is a dict as Python writes it, its Go values converted.
func reprKwargs(t *testing.T, d *py.Dict) string {
	t.Helper()
	v, err := py.FromGo(d)
	if err != nil {
		t.Fatal(err)
	}
	return py.Repr(v)
}
