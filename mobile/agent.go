package mobile

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pymsgpack"
	"github.com/pyrogo/pyro/py"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Agents: modules that call the daemon's registered objects through the
// host function pyro.invoke, under grants (spec.md, "Mobile code",
// agents).

const (
	// AgentModule and InvokeFunc name the host function agents import:
	// pyro.invoke(ptr i32, len i32) -> i64.
	AgentModule = "pyro"
	InvokeFunc  = "invoke"
	// DefaultMaxInvokes bounds the invokes of one module call. Each
	// runs a full dispatch and leaves its result in the instance's
	// memory (the Go guest helper never frees), so a runaway loop is cut
	// off long before the time cap; 1000 calls that each read a slice of
	// 1000 records reach a million records.
	DefaultMaxInvokes = 1000
)

// Grant allows agent modules to call methods of one registered object.
// An invoke is allowed when some grant names its object and method and
// accepts the module and the client that called the module.
type Grant struct {
	// Object is the id the object is registered under. It must be
	// given; ObjectID (the service itself) cannot be granted: an agent
	// never loads or calls modules. Granting pyro.DaemonObjectID gives
	// the daemon's own methods (ping, info, registered, ...).
	Object string
	// Methods are the names an agent may call, as a client names them
	// ("count", not also "Count", unless listed); "*" allows every name
	// a remote client could call (exposed methods, exposed attributes
	// through __getattr__/__setattr__, dotted names under DOTTEDNAMES).
	// Nil allows none.
	Methods []string
	// Modules are the ids (hex SHA-256) of the modules the grant is for;
	// nil or empty: any loaded module.
	Modules []string
	// Identities are the passphrase identities or verified certificate
	// common names of the clients whose module calls the grant is for;
	// nil or empty: any client, local calls (Service.Call) included.
	Identities []string
}

// WithGrants offers agents the host function pyro.invoke and grants
// them calls of the daemon's objects (see Grant); several WithGrants
// add up. Without any grant nothing is offered: a module that imports
// pyro.invoke is refused at load. With grants, such a module loads
// (validators permitting), and each invoke is checked against them:
// nothing is granted that a grant does not name. Calls run through the
// daemon the service is registered in (Enable, Register) with
// pyro.Daemon.Invoke: its lookup, exposure rules, argument conversion
// and interceptors, with the calling client's connection and
// CallContext.Agent set to the module id.
func WithGrants(grants ...Grant) Option {
	return func(o *options) { o.grants = append(o.grants, grants...) }
}

// WithMaxInvokes bounds the invokes one module call may make (default
// DefaultMaxInvokes); past it, invoke fails with a MemoryError.
func WithMaxInvokes(n int) Option { return func(o *options) { o.maxInvokes = n } }

// checkGrants refuses grants that cannot be meant.
func checkGrants(gs []Grant) error {
	for i, g := range gs {
		switch {
		case g.Object == "":
			return fmt.Errorf("mobile: grant %d names no object", i+1)
		case g.Object == ObjectID:
			return fmt.Errorf("mobile: grant %d: %s cannot be granted (an agent must not load or call modules)", i+1, ObjectID)
		case slices.Contains(g.Methods, ""):
			return fmt.Errorf("mobile: grant %d of %s has an empty method name", i+1, g.Object)
		}
		for _, m := range g.Modules {
			if b, err := hex.DecodeString(m); err != nil || len(b) != 32 {
				return fmt.Errorf("mobile: grant %d of %s: %q is not a module id (64 hex digits)", i+1, g.Object, m)
			}
		}
	}
	return nil
}

// allows reports whether g allows module, on behalf of client, to call
// object.method.
func (g *Grant) allows(module string, client Client, object, method string) bool {
	if g.Object != object || !(slices.Contains(g.Methods, method) || slices.Contains(g.Methods, "*")) {
		return false
	}
	if len(g.Modules) > 0 && !slices.ContainsFunc(g.Modules, func(m string) bool { return strings.EqualFold(m, module) }) {
		return false
	}
	if len(g.Identities) > 0 && !slices.ContainsFunc(g.Identities, func(id string) bool {
		return id != "" && (id == client.Identity || id == client.CommonName)
	}) {
		return false
	}
	return true
}

// agentHost is the host module "pyro" of a service with grants.
func (s *Service) agentHost() hostModule {
	return hostModule{name: AgentModule, funcs: []string{InvokeFunc},
		instantiate: func(ctx context.Context, rt wazero.Runtime) error {
			_, err := rt.NewHostModuleBuilder(AgentModule).NewFunctionBuilder().
				WithFunc(s.hostInvoke).Export(InvokeFunc).Instantiate(ctx)
			return err
		}}
}

// hostInvoke is pyro.invoke: it reads the request [object, method, args]
// at (ptr, n), runs it if granted, and returns the packed pointer and
// length of the result (or of the error text, bit 31 of the length set)
// written into a buffer from the module's pyro_alloc.
func (s *Service) hostInvoke(ctx context.Context, mod api.Module, ptr, n uint32) uint64 {
	res, err := s.agentCall(ctx, mod, ptr, n)
	var out []byte
	flag := uint32(0)
	if err != nil {
		flag = errorFlag
		exc := pyro.ExceptionOf(err)
		out = []byte(exc.ShortClass() + ": " + exc.Message())
		if len(out) > 1024 {
			out = out[:1024]
		}
	} else {
		out = res
	}
	if len(out) == 0 {
		return uint64(flag)
	}
	alloc := mod.ExportedFunction(AllocExport)
	if alloc == nil {
		panic(invalidf("module calls %s.%s but exports no %s", AgentModule, InvokeFunc, AllocExport))
	}
	r, aerr := alloc.Call(ctx, uint64(len(out)))
	if aerr != nil {
		panic(aerr) // the instance is closed or trapped: the call ends with it
	}
	p := uint32(r[0])
	if !mod.Memory().Write(p, out) {
		panic(newErr(ErrTrap, nil, "%s(%d) returned %#x, outside the module's memory", AllocExport, len(out), p))
	}
	return uint64(p)<<32 | uint64(uint32(len(out))|flag)
}

// agentCall checks and runs one invoke and returns its serialized result.
func (s *Service) agentCall(ctx context.Context, mod api.Module, ptr, n uint32) ([]byte, error) {
	info := callFrom(ctx)
	if info == nil {
		return nil, refusedf("%s.%s called outside a module call", AgentModule, InvokeFunc)
	}
	if info.invokes++; info.invokes > s.o.maxInvokes {
		return nil, limitf("module %s made more than %d invokes in one call (WithMaxInvokes)", short(info.Module), s.o.maxInvokes)
	}
	if int64(n) > int64(s.o.maxResultSize) {
		return nil, limitf("invoke request of %d bytes is larger than %d (WithMaxResultSize)", n, s.o.maxResultSize)
	}
	view, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return nil, invalidf("invoke request at %#x+%d is outside the module's memory", ptr, n)
	}
	v, err := (&pymsgpack.Decoder{Limits: resultLimits}).Decode(bytes.Clone(view))
	if err != nil {
		return nil, newErr(ErrInvalid, err, "malformed invoke request: %v", err)
	}
	req, _ := v.([]any)
	var object, method string
	var args []any
	if len(req) == 3 {
		object, _ = req[0].(string)
		method, _ = req[1].(string)
		args, ok = req[2].([]any)
	}
	if len(req) != 3 || object == "" || method == "" || !ok {
		return nil, invalidf("an invoke request is [object: str, method: str, args: list], not %s", py.TypeName(v))
	}
	if !s.granted(info, object, method) {
		who := info.Client.String()
		return nil, refusedf("module %s may not call %s.%s for the %s: no grant allows it", short(info.Module), object, method, who)
	}
	d := s.daemon.Load()
	if d == nil {
		return nil, refusedf("the service is not registered in a daemon: agents have no objects to call")
	}
	res, err := d.Invoke(ctx, info.Module, object, method, args, nil)
	if err != nil {
		return nil, err
	}
	lim := py.SizeLimit{Max: s.o.maxResultSize}
	out, err := (&pymsgpack.Encoder{}).AppendLimit(nil, res, &lim)
	if errors.Is(err, py.ErrTooLarge) {
		return nil, limitf("result of %s.%s is larger than %d bytes (WithMaxResultSize)", object, method, s.o.maxResultSize)
	}
	if err != nil {
		return nil, newErr(ErrInvalid, err, "result of %s.%s cannot be passed to a module: %v", object, method, err)
	}
	return out, nil
}

// granted reports whether some grant allows the call.
func (s *Service) granted(info *CallInfo, object, method string) bool {
	for i := range s.o.grants {
		if s.o.grants[i].allows(info.Module, info.Client, object, method) {
			return true
		}
	}
	return false
}
