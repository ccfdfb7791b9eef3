package py_test

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/py"
)

type order struct {
	ItemName string `pyro:"item_name"`
	Quantity int
	Inner    *orderNote
}

type orderNote struct{ Text string }

func TestDisallowUnknownKeys(t *testing.T) {
	strict := py.ConvertOptions{DisallowUnknownKeys: true}
	good := py.DictOf("item_name", "tea", "quantity", int64(2))
	var o order
	if err := strict.Convert(&o, good); err != nil || o.ItemName != "tea" || o.Quantity != 2 {
		t.Fatalf("known keys: %+v, %v", o, err)
	}
	tests := []struct {
		name string
		src  any
		dst  any
		want string
	}{
		{"typo", py.DictOf("item_name", "tea", "quantiy", int64(2)), &order{},
			"unknown key 'quantiy' for py_test.order (fields: item_name, Quantity, Inner)"},
		{"non-str key", py.DictOf(int64(1), "x"), &order{}, "non-str key 1 for py_test.order"},
		{"nested struct", py.DictOf("inner", py.DictOf("txt", "x")), &order{}, "field Inner: unknown key 'txt' for py_test.orderNote (fields: Text)"},
		{"in a list", []any{py.DictOf("item_name", "a"), py.DictOf("nme", "b")}, &[]order{}, "list item 1: unknown key 'nme'"},
		{"in a map value", py.DictOf("k", py.DictOf("x", int64(1))), &map[string]orderNote{}, "dict key 'k': unknown key 'x'"},
		{"long key is shortened", py.DictOf(strings.Repeat("k", 100), int64(1)), &orderNote{}, "unknown key '" + strings.Repeat("k", 37) + "...'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := strict.Convert(tt.dst, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if _, ok := err.(*py.ConvertError); !ok {
				t.Errorf("error is %T, not *py.ConvertError", err)
			}
			// the default rules still ignore the key
			if err := py.Convert(tt.dst, tt.src); err != nil {
				t.Errorf("default rules: %v", err)
			}
		})
	}
}
