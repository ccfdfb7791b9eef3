package pyrotest_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type adder struct{}

func (adder) Add(a, b int) int { return a + b }

// A served object answers every serializer through a proxy; both are
// gone when the test ends (goleak checks).
func TestServeAndProxy(t *testing.T) {
	u := pyrotest.Serve(t, pyrotest.Config(), "adder", adder{})
	if u.Object != "adder" {
		t.Errorf("URI %s", u)
	}
	for _, ser := range pyrotest.Serializers {
		p := pyrotest.ProxyURI(t, u, nil, pyro.WithSerializer(ser))
		if v, err := p.Call(context.Background(), "add", 2, 3); err != nil || v != int64(5) {
			t.Errorf("%s: add = %v, %v", ser, v, err)
		}
	}
	d := pyrotest.Start(t, nil)
	u2 := pyrotest.Register(t, d, "", adder{})
	if v, err := pyrotest.Proxy(t, u2.String(), nil).Call(context.Background(), "add", 1, 1); err != nil || v != int64(2) {
		t.Errorf("generated id: %v, %v", v, err)
	}
}
