package mobile

import (
	"context"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

// Remote is the object a daemon serves under ObjectID; Register makes
// it. Its methods take and return plain values, so Python Pyro4 and Pyro5
// clients use it without any pyrogo code:
//
//	load(module: bytes, signature: bytes|str|None = None) -> str
//	call(id: str, function: str, *args) -> result
//	unload(id: str) -> None
//	modules() -> list of dict
type Remote struct{ s *Service }

// PyroExpose names the parameters for keyword calls.
func (r *Remote) PyroExpose() pyro.Exposure {
	return pyro.Exposure{Params: map[string][]string{
		"load":   {"module", "signature"},
		"call":   {"id", "function"},
		"unload": {"id"},
	}}
}

// Load is load(module, signature=None): it returns the module id (hex
// SHA-256). module is bytes (serpent's base64 dict is accepted);
// signature is None, the 64 signature bytes, or their base64 text (a
// signature file's contents).
func (r *Remote) Load(ctx context.Context, module any, signature ...any) (string, error) {
	bin, ok := bytesArg(module)
	if !ok {
		return "", invalidf("module must be bytes, not %s", py.TypeName(module))
	}
	if len(signature) > 1 {
		return "", invalidf("load takes a module and at most one signature")
	}
	var sig []byte
	if len(signature) == 1 && signature[0] != nil {
		switch x := signature[0].(type) {
		case string:
			b, err := ParseSignature([]byte(x))
			if err != nil {
				return "", newErr(ErrInvalid, err, "signature: %v", err)
			}
			sig = b
		default:
			b, ok := bytesArg(x)
			if !ok {
				return "", invalidf("signature must be bytes, str or None, not %s", py.TypeName(x))
			}
			sig = b
		}
	}
	return r.s.Load(ctx, bin, sig)
}

// Call is call(id, function, *args).
func (r *Remote) Call(ctx context.Context, id, function string, args ...any) (any, error) {
	return r.s.Call(ctx, id, function, args...)
}

// Unload is unload(id).
func (r *Remote) Unload(ctx context.Context, id string) error { return r.s.Unload(ctx, id) }

// Modules is modules(): a list of dicts {"id", "size", "functions",
// "loaded_by", "loaders"}.
func (r *Remote) Modules(ctx context.Context) []any {
	sts := r.s.Modules(ctx)
	out := make([]any, len(sts))
	for i, st := range sts {
		fns := make([]any, len(st.Functions))
		for j, f := range st.Functions {
			fns[j] = f
		}
		by := make([]any, len(st.LoadedBy))
		for j, b := range st.LoadedBy {
			by[j] = b
		}
		out[i] = py.DictOf("id", st.ID, "size", int64(st.Size), "functions", fns, "loaded_by", by,
			"loaders", int64(st.Loaders))
	}
	return out
}
