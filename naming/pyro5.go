package naming

import (
	"context"
	"fmt"
	"slices"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/wire"
)

// The name server's answers to Pyro5 callers (protocol 502). Pyro5's
// NameServer (Pyro5/nameserver.py) differs from Pyro4's in a few places,
// and each caller gets the answer of its own protocol's name server:
//
//   - metadata comes back as a set (Pyro4: a list) from lookup, list and
//     yplookup;
//   - list is list(prefix=None, regex=None, return_metadata=False): no
//     metadata filters (those are yplookup's), and "you can only filter on
//     one thing at a time" only when prefix and regex are both true values;
//   - yplookup(meta_all=None, meta_any=None, return_metadata=True) exists
//     (Pyro4 callers may call it too: an extension, since Pyro4 has none);
//   - remove(name) with a name other than Pyro.NameServer answers 0 when
//     the name is not registered, without falling back to prefix or regex;
//   - the name server's own registration carries the tag
//     "class:Pyro5.nameserver.NameServer" (Pyro4: "class:Pyro4.naming.NameServer").
//     It is stored with both tags, and each caller sees its protocol's.
//
// Errors keep Pyro4's class names in Go; the Pyro5 codec sends
// Pyro4.errors.X as Pyro5.errors.X.

// ClassMetadata5 is the metadata tag Pyro5's name server registers itself
// with. The Go name server's own registration carries both ClassMetadata
// and ClassMetadata5; Pyro4 callers see only the first, Pyro5 callers
// only the second.
const ClassMetadata5 = "class:Pyro5.nameserver.NameServer"

// protocol502 is ConnInfo.Protocol of a Pyro5 connection.
const protocol502 = int(wire.Protocol502)

// protoKey is the context key under which tests set the caller's protocol
// (the daemon's ConnInfo.Protocol otherwise).
type protoKey struct{}

// callerProtocol returns the wire protocol of the caller of a name server
// method: 48 (Pyro4) or 502 (Pyro5); 48 for a local Go call.
func callerProtocol(ctx context.Context) int {
	if p, ok := ctx.Value(protoKey{}).(int); ok {
		return p
	}
	if cc := pyro.CallContextFrom(ctx); cc != nil && cc.Conn != nil && cc.Conn.Protocol != 0 {
		return cc.Conn.Protocol
	}
	return int(wire.Protocol48)
}

// isPyro5 reports whether the caller speaks Pyro5's protocol.
func isPyro5(ctx context.Context) bool { return callerProtocol(ctx) == protocol502 }

// shownTags returns the tags of e as the caller's protocol shows them:
// the name server's own registration, stored with both class tags, shows
// the caller's protocol's.
func shownTags(ctx context.Context, e Entry) []string {
	if e.Name != ObjectID {
		return e.Metadata
	}
	own, other := ClassMetadata, ClassMetadata5
	if isPyro5(ctx) {
		own, other = other, own
	}
	hasOwn, hasOther := false, false
	for _, t := range e.Metadata {
		hasOwn = hasOwn || t == own
		hasOther = hasOther || t == other
	}
	if !hasOwn || !hasOther {
		return e.Metadata
	}
	out := make([]string, 0, len(e.Metadata)-1)
	for _, t := range e.Metadata {
		if t != other {
			out = append(out, t)
		}
	}
	return out
}

// metaValue is the metadata of e in an answer: a list for Pyro4 callers
// (Pyro4's name server converts its sets to lists), a set for Pyro5
// callers.
func metaValue(ctx context.Context, e Entry) any {
	tags := shownTags(ctx, e)
	if !isPyro5(ctx) {
		return tagList(tags)
	}
	return tagSet(tags)
}

// Yplookup is Pyro5's yplookup(meta_all=None, meta_any=None,
// return_metadata=True): the registrations having all the tags of
// meta_all, or any of meta_any, as a dict name → (URI string, {tags}), or
// name → URI string without return_metadata; an empty dict when neither
// is given. Giving both is ValueError. Pyro4's name server has no such
// method; pyrogo answers Pyro4 callers too (with lists for the tags, as
// Pyro4's list does). Under a policy, only the names the caller may list
// are considered.
func (ns *NameServer) Yplookup(ctx context.Context, opt ...any) (*py.Dict, error) {
	if err := argCount("yplookup", 0, 3, len(opt)); err != nil {
		return nil, err
	}
	all, anyOf := optArg(opt, 0), optArg(opt, 1)
	withMeta := true
	if len(opt) > 2 {
		withMeta = truthy(opt[2])
	}
	if truthy(all) && truthy(anyOf) {
		return nil, &pyro.PythonError{Class: "ValueError", Msg: "you can't use meta_all or meta_any at the same time"}
	}
	var entries []Entry
	var err error
	switch {
	case truthy(all):
		entries, err = ns.byMetadata(ctx, all, "metadata_all", true)
	case truthy(anyOf):
		entries, err = ns.byMetadata(ctx, anyOf, "metadata_any", false)
	}
	if err != nil {
		return nil, err
	}
	return resultDict(ctx, entries, withMeta), nil
}

// resultDict is the dict answer of list and yplookup.
func resultDict(ctx context.Context, entries []Entry, withMeta bool) *py.Dict {
	d := py.NewDict(len(entries))
	for _, e := range entries {
		if withMeta {
			d.SetString(e.Name, py.Tuple{e.URI, metaValue(ctx, e)})
		} else {
			d.SetString(e.Name, e.URI)
		}
	}
	return d
}

// list5Args reads the arguments of Pyro5's list(prefix=None, regex=None,
// return_metadata=False) from the slots that List's parameter names
// (Pyro4's list(prefix, regex, metadata_all, metadata_any,
// return_metadata)) gave them: a third positional argument arrives in
// Pyro4's metadata_all slot, return_metadata by keyword in the last.
// Pyro5Interceptor refuses Pyro4's keywords before the method runs; without
// it, a value in the metadata_any slot is refused as that keyword.
func list5Args(opt []any) (prefix, regex, withMeta any, err error) {
	if len(opt) > 3 && opt[3] != nil {
		return nil, nil, nil, unexpectedKeyword("list", "metadata_any")
	}
	third, last := optArg(opt, 2), optArg(opt, 4)
	if third != nil && last != nil {
		return nil, nil, nil, typeError("NameServer.list() got multiple values for argument 'return_metadata'")
	}
	if third == nil {
		third = last
	}
	return optArg(opt, 0), optArg(opt, 1), third, nil
}

// remove5 is Pyro5's remove(name) for a name other than the name server's
// own: it removes the name, or answers 0 when it is not registered (Pyro4
// goes on to the prefix and regex instead). done is false when the name
// does not apply (absent, empty, or "Pyro.NameServer").
func (ns *NameServer) remove5(name any) (n int, done bool, err error) {
	if !truthy(name) || name == ObjectID {
		return 0, false, nil
	}
	s, ok := name.(string)
	if !ok {
		if err := hashable(name); err != nil {
			return 0, true, err
		}
		return 0, true, nil // `name in storage`: no key of another type is ever stored
	}
	ns.mu.Lock()
	n, err = ns.store.Delete(s)
	ns.mu.Unlock()
	if err != nil {
		return 0, true, storeErr(err)
	}
	if n > 0 {
		ns.log.Debug("naming: remove", "name", s)
		return 1, true, nil
	}
	return 0, true, nil
}

// hashable refuses the values Python cannot use as a dict key or set
// member, with Python's TypeError.
func hashable(v any) error {
	switch s := v.(type) {
	case []any, *py.Dict:
		return typeError(fmt.Sprintf("unhashable type: '%s'", py.TypeName(v)))
	case *py.Set:
		if !s.Frozen {
			return typeError("unhashable type: 'set'")
		}
	}
	return nil
}

func unexpectedKeyword(method, kw string) error {
	return typeError(fmt.Sprintf("NameServer.%s() got an unexpected keyword argument '%s'", method, kw))
}

// Pyro5Interceptor returns the interceptor that gives Pyro5 callers of the
// name server object (ObjectID) Pyro5's argument checks where Pyro5's
// NameServer takes other parameters than Pyro4's, whose parameter names
// the NameServer's methods carry: list() refuses the keywords
// metadata_all and metadata_any and more than three positional arguments,
// as Pyro5's does; yplookup (for callers of both protocols) refuses
// unknown keywords with the text Python gives for a NameServer method.
// Start installs it; a NameServer served by a daemon of
// one's own should get it with pyro.WithInterceptors (without it, those
// wrong calls are refused with less exact texts, or a metadata_all
// keyword is taken as return_metadata). Calls of other objects, and Pyro4
// callers, pass unchanged.
func Pyro5Interceptor() pyro.Interceptor {
	return pyro.InterceptorFunc(func(next pyro.CallFunc) pyro.CallFunc {
		return func(ctx context.Context, c *pyro.Call) (any, error) {
			if c.Object() != ObjectID {
				return next(ctx, c)
			}
			var err error
			switch c.GoMethod() {
			case "List":
				if isPyro5(ctx) {
					err = checkList5Call(c.Args, c.Kwargs)
				}
			case "Yplookup":
				err = checkKeywords("yplookup", c.Kwargs, "meta_all", "meta_any", "return_metadata")
			}
			if err != nil {
				return nil, err
			}
			return next(ctx, c)
		}
	})
}

// checkKeywords refuses a keyword argument other than names with
// Python's text for a method of the NameServer class.
func checkKeywords(method string, kwargs *py.Dict, names ...string) error {
	for i := 0; i < kwargs.Len(); i++ {
		k, ok := kwargs.Key(i).(string)
		if ok && !slices.Contains(names, k) {
			return unexpectedKeyword(method, k)
		}
	}
	return nil
}

// checkList5Call checks a Pyro5 caller's list() arguments against Pyro5's
// signature list(self, prefix=None, regex=None, return_metadata=False).
func checkList5Call(args []any, kwargs *py.Dict) error {
	if len(args) > 3 {
		return typeError(fmt.Sprintf("NameServer.list() takes from 1 to 4 positional arguments but %d were given", len(args)+1))
	}
	for i := 0; i < kwargs.Len(); i++ {
		k, _ := kwargs.Key(i).(string)
		if k == "metadata_all" || k == "metadata_any" {
			return unexpectedKeyword("list", k)
		}
	}
	return nil
}
