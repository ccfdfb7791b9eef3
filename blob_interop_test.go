package pyro_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit/pyrotest"
	"github.com/pyrogo/pyro/py"
)

// blobGateway receives serialized blobs from Python clients (take) and
// passes them on undecoded to a Python server (forward).
type blobGateway struct{ next *pyro.Proxy }

// Take answers [info, serializer, body size, args...].
func (g *blobGateway) Take(b *pyro.SerializedBlob) ([]any, error) {
	args, err := b.Deserialized()
	if err != nil {
		return nil, err
	}
	return append([]any{b.Info, b.Serializer(), len(b.Data())}, args...), nil
}

// Forward passes the blob on to the Python server's take.
func (g *blobGateway) Forward(ctx context.Context, b *pyro.SerializedBlob) (any, error) {
	return g.next.Call(ctx, "take", b)
}

// TestInteropSerializedBlob: serialized blobs with real Pyro4 and Pyro5,
// both ways, per serializer (testdata/interop5/blob.py): a Python client
// sends a SerializedBlob to a Go method, which gets its info and
// arguments; through a Go gateway method the blob goes on, undecoded, to
// a Python server, whose deserialized() sees the client's arguments in
// the body the client sent (its size proves it was not serialized again);
// and a Go proxy sends a blob made with NewSerializedBlob to the Python
// server.
func TestInteropSerializedBlob(t *testing.T) {
	ctx := context.Background()
	for _, gen := range []string{"4", "5"} {
		t.Run("pyro"+gen, func(t *testing.T) {
			py5 := gen == "5"
			if py5 {
				pytest.Pyro5(t)
			} else {
				pytest.Python(t)
			}
			var env []string
			if !py5 {
				env = []string{pyServerEnv} // Pyro5 accepts every serializer, and refuses this setting
			}
			srv := pytest.Cmd{Args: []string{"testdata/interop5/blob.py", gen, "server"}, Env: env, Pyro5: py5}.Start(t)
			d, _ := startGoDaemon(t, nil)
			for _, ser := range pyrotest.Serializers {
				t.Run(ser, func(t *testing.T) {
					opts := []pyro.ProxyOption{pyro.WithSerializer(ser), pyro.WithProtocol(gen)}
					gw := &blobGateway{next: pyrotest.Proxy(t, srv.Ready, nil, opts...)}
					u := pyrotest.Register(t, d, "", gw)
					res := pytest.Cmd{Args: []string{"testdata/interop5/blob.py", gen, "client", u.String(), ser},
						Env: env, Pyro5: py5}.Run(t)
					var out struct {
						Take          []any
						Forward       map[string]any
						KwargsRefused any `json:"kwargs_refused"`
					}
					if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil || res.ExitCode != 0 {
						t.Fatalf("blob.py client: %v exit %d\n%s\n%s", err, res.ExitCode, res.Stdout, res.Stderr)
					}
					if len(out.Take) != 6 || !jsonEqual(out.Take[:2], []any{[]any{"info", 7}, ser}) || !jsonEqual(out.Take[3:], []any{"one", 2, []any{3.5}}) {
						t.Errorf("take: %v", out.Take)
					}
					size, _ := out.Take[2].(float64)
					wantArgs := []any{"one", 2, []any{3.5}}
					if ser == "json" {
						// Pyro's own deserialized() (4 and 5) unpacks a json
						// call, a dict, by its keys, so it answers the
						// letters of "params" whoever sent the blob
						wantArgs = []any{"p", "a", "r", "a", "m", "s"}
					}
					want := map[string]any{"info": []any{"info", 7}, "args": wantArgs, "size": size + float64(len("forward")-len("take"))}
					if !jsonEqual(out.Forward, want) {
						t.Errorf("forward: %v, want %v", out.Forward, want)
					}
					if out.KwargsRefused != "SerializeError" {
						t.Errorf("a blob with kwargs from Python: %v", out.KwargsRefused)
					}
					// a blob made in Go, to the Python server
					p := pyrotest.Proxy(t, srv.Ready, nil, opts...)
					v, err := p.Call(ctx, "take", pyro.NewSerializedBlob(py.Tuple{"go", int64(1)}, "a", int64(2)))
					m, _ := v.(*py.Dict)
					if err != nil || m == nil {
						t.Fatalf("take from Go: %v %v", v, err)
					}
					info, _ := m.GetString("info")
					args, _ := m.GetString("args")
					if ser == "json" && py.Same(args, []any{"p", "a", "r", "a", "m", "s"}) {
						args = []any{"a", int64(2)} // as above
					}
					if !py.Same(info, py.Tuple{"go", int64(1)}) && !py.Same(info, []any{"go", int64(1)}) || !py.Same(args, []any{"a", int64(2)}) {
						t.Errorf("take from Go: %s", py.Repr(v))
					}
				})
			}
		})
	}
}
