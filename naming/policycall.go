package naming

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/accessrule"
)

// A policy on the name server's calls: one interceptor decides, before a
// method runs, whether the caller may call it at all (the connect rules,
// which may depend on the passphrase identity known only now) and
// whether it may do the method's operation on the name it gives. The
// answers about sets of names (list, count, remove by prefix or regex)
// are computed by the methods over the names the caller may list; the
// interceptor hands them the caller's policy in the context.

// Interceptor returns the interceptor that enforces p on the remote
// calls of the name server object (ObjectID) of the daemon it is
// installed in; WithPolicy installs it, with the connection validator
// and the broadcast check. Calls of other objects pass. A refused call is
// a SecurityError, logged to logger (nil: discarded). Local Go calls of
// the NameServer's methods, which no interceptor sees, are not
// restricted.
func (p *Policy) Interceptor(logger *slog.Logger) pyro.Interceptor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &policyInterceptor{p: p, log: logger}
}

type policyInterceptor struct {
	p   *Policy
	log *slog.Logger
}

// callerKey is the context key of a call's *caller.
type callerKey struct{}

// caller is a remote client of the name server under a policy.
type caller struct {
	p    *Policy
	log  *slog.Logger
	peer PolicyPeer
}

// WrapCall implements pyro.Interceptor.
func (pi *policyInterceptor) WrapCall(next pyro.CallFunc) pyro.CallFunc {
	return func(ctx context.Context, c *pyro.Call) (any, error) {
		if c.Object() != ObjectID {
			return next(ctx, c)
		}
		ep := accessrule.CallPeer(c.CallContext())
		cl := &caller{p: pi.p, log: pi.log, peer: PolicyPeer{Addr: ep.Addr, Identity: ep.Identity, CommonName: ep.CommonName}}
		if err := cl.gate(c); err != nil {
			return nil, err
		}
		return next(context.WithValue(ctx, callerKey{}, cl), c)
	}
}

// gate checks a call before the method runs: the connect rules for every
// call (identity-dependent ones could not be checked at connection time),
// and for the methods that act on one name the operation on it, and
// whether the caller may know that the name exists when the answer would
// tell (register with safe, set_metadata, remove by name). A name that is
// not a str is left to the method, which refuses it.
func (cl *caller) gate(c *pyro.Call) error {
	if ok, _ := cl.p.Allowed(OpConnect, cl.peer, ""); !ok {
		return cl.deny("connect", "", "name server policy does not allow this client")
	}
	// GoMethod, not the name called: "Lookup" reaches lookup too
	method, op, known := "", Op(0), false
	switch c.GoMethod() {
	case "Lookup":
		method, op = "lookup", OpLookup
	case "Register":
		method, op, known = "register", OpRegister, truthy(argument(c, 2, "safe"))
	case "SetMetadata":
		method, op, known = "set_metadata", OpRegister, true
	case "Remove":
		method, op, known = "remove", OpRemove, true
	default:
		return nil
	}
	name, ok := argument(c, 0, "name").(string)
	if !ok || method == "remove" && (name == "" || name == ObjectID) {
		return nil // remove(name) does not apply: prefix or regex, checked by Remove
	}
	if err := cl.check(op, method, name); err != nil {
		return err
	}
	if known {
		return cl.checkKnown(method, name)
	}
	return nil
}

// argument returns the call's argument at position i, or given by
// keyword; nil when absent. It finds what the method's parameter i gets
// (a call that gives both is refused before the method runs).
func argument(c *pyro.Call, i int, keyword string) any {
	if i < len(c.Args) {
		return c.Args[i]
	}
	v, _ := c.Kwargs.GetString(keyword)
	return v
}

// callerOf returns the policy's view of the caller of a name server
// call; nil when no policy restricts it (no policy, or a local Go call).
func callerOf(ctx context.Context) *caller {
	cl, _ := ctx.Value(callerKey{}).(*caller)
	return cl
}

// check refuses op on name unless the policy allows it.
func (cl *caller) check(op Op, method, name string) error {
	if ok, _ := cl.p.Allowed(op, cl.peer, name); !ok {
		return cl.deny(method, name, fmt.Sprintf("name server policy denies %s of %q", method, name))
	}
	return nil
}

// checkKnown enforces that the caller may know whether name exists (the
// policy lets it look the name up or list it) before an operation whose
// answer tells. The refusal is the same whether the name exists or not.
func (cl *caller) checkKnown(method, name string) error {
	if ok, _ := cl.p.Allowed(OpLookup, cl.peer, name); ok {
		return nil
	}
	if ok, _ := cl.p.Allowed(OpList, cl.peer, name); ok {
		return nil
	}
	return cl.deny(method, name, fmt.Sprintf("name server policy denies %s of %q (the client may not look it up)", method, name))
}

// deny logs a refusal and returns its SecurityError.
func (cl *caller) deny(method, name, msg string) error {
	cl.log.Warn("naming: operation denied by policy", "op", method, "name", name,
		"peer", cl.peer.Addr, "identity", cl.peer.Identity, "cn", cl.peer.CommonName)
	return pyro.NewError(pyro.ErrSecurity, msg)
}

// mayList returns a test of the names the caller may list, or nil when
// it may list every name. Every answer about sets of names (list, count,
// remove by prefix or regex) is computed over these only, so that it
// reveals nothing of the others.
func (cl *caller) mayList() func(name string) bool {
	if cl == nil {
		return nil
	}
	return func(name string) bool {
		ok, _ := cl.p.Allowed(OpList, cl.peer, name)
		return ok
	}
}

// visible filters entries to those the caller may list (see mayList).
func (cl *caller) visible(entries []Entry) []Entry {
	may := cl.mayList()
	if may == nil {
		return entries
	}
	out := entries[:0:0]
	for _, e := range entries {
		if may(e.Name) {
			out = append(out, e)
		}
	}
	return out
}
