package pyro_test

import (
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

// Shipment uses Python-style keys through pyro tags, both ways.
type Shipment struct {
	TrackingCode string  `pyro:"tracking_code"`
	WeightKg     float64 `pyro:"weight_kg"`
}

type shipping struct{}

func (shipping) Send(s Shipment) Shipment { return s }
func (shipping) Label() Shipment          { return Shipment{TrackingCode: "ab12", WeightKg: 1.5} }

// TestStructArgumentKeys: a Python caller's typo in a struct argument is a
// TypeError naming the key (unless the daemon relaxes it), and struct
// results carry their snake_case tag names.
func TestStructArgumentKeys(t *testing.T) {
	pytest.Python(t)
	strict := pyrotest.Serve(t, pyrotest.Config(), "obj", shipping{}).String()
	lenient := pyrotest.Serve(t, pyrotest.Config(), "obj", shipping{}, pyro.WithIgnoreUnknownKeys()).String()
	good := "({'tracking_code': 'x1', 'weight_kg': 2.5},)"
	typo := "({'tracking_code': 'x1', 'wieght_kg': 2.5},)"
	calls := []pyCall{
		{URI: strict, Method: "label"},
		{URI: strict, Method: "send", Args: good},
		{URI: strict, Method: "send", Args: typo},
		{URI: lenient, Method: "send", Args: typo},
	}
	want := []pyResult{
		{OK: true, Type: "builtins.dict", Repr: "{'tracking_code': 'ab12', 'weight_kg': 1.5}"},
		{OK: true, Type: "builtins.dict", Repr: "{'tracking_code': 'x1', 'weight_kg': 2.5}"},
		{Class: "builtins.TypeError", Message: "arg 1: unknown key 'wieght_kg' for pyro_test.Shipment (fields: tracking_code, weight_kg)"},
		{OK: true, Type: "builtins.dict", Repr: "{'tracking_code': 'x1', 'weight_kg': 0.0}"},
	}
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		cs := make([]pyCall, len(calls))
		for i, c := range calls {
			c.Serializer = ser
			cs[i] = c
		}
		for i, got := range runPyCalls(t, cs) {
			if got != want[i] {
				t.Errorf("%s: %s%s: got %v, want %v", ser, cs[i].Method, cs[i].Args, got, want[i])
			}
		}
	}
}
