package mobile

import (
	"context"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestHostModuleSeam: a host module given to the service may be imported
// (other names of it may not), and its functions learn which module and
// client they serve — the seam agents build on.
func TestHostModuleSeam(t *testing.T) {
	var mu sync.Mutex
	var got []*CallInfo
	host := hostModule{name: "pyrotest", funcs: []string{"whoami"},
		instantiate: func(ctx context.Context, rt wazero.Runtime) error {
			_, err := rt.NewHostModuleBuilder("pyrotest").NewFunctionBuilder().
				WithFunc(func(ctx context.Context) {
					mu.Lock()
					got = append(got, callFrom(ctx))
					mu.Unlock()
				}).Export("whoami").Instantiate(ctx)
			return err
		}}
	s := startServed(t, nil, WithValidator(acceptAll()), withHost(host))
	ctx := ctxT(t)
	agent := rawModule([]rawImport{{"pyrotest", "whoami"}}, []rawFunc{{body: opCall0, export: "run"}}, 1, -1, nil)
	other := rawModule([]rawImport{{"pyrotest", "secret"}}, []rawFunc{{export: "run"}}, 1, -1, nil)
	p := s.proxy(t, withMsgpack())
	id, err := p.Call(ctx, "load", agent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "call", id, "run"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] == nil || got[0].Module != id || got[0].Function != "run" || got[0].Client.Host() != "127.0.0.1" {
		t.Fatalf("host function saw %+v", got)
	}
	_, err = p.Call(ctx, "load", other)
	wantRemote(t, err, "Pyro4.errors.SecurityError", "pyrotest.secret (func)")
}
