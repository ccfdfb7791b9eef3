package naming

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
	"github.com/pyrogo/pyro/uri"
)

// ObjectID is the object id of the name server in its daemon, and the
// name under which it registers itself ("Pyro.NameServer").
const ObjectID = pyro.NameServerObjectID

// ClassMetadata is the metadata tag the name server registers itself
// with, as Pyro4's does.
const ClassMetadata = "class:Pyro4.naming.NameServer"

// NameServer is the remote name server object, registered in a daemon as
// "Pyro.NameServer". It maps names to URI strings with optional metadata
// tags, keeping them in a Storage. Its remote methods are exactly Pyro4's
// (count, list, lookup, ping, register, remove, set_metadata), with the
// same parameters — positional or keyword — the same results and the same
// exceptions, so Python clients and pyro4-nsc cannot tell it from
// pyro4-ns. The Go methods therefore take Python values (any); Go
// programs normally talk to a name server through a Client.
//
// A NameServer is safe for concurrent use. Writes that must read first
// (register with safe, set_metadata, remove) are serialized; lookups run
// in parallel. Regular expressions of list and remove are matched against
// a copy of the names, holding no lock of the name server or its
// storage, so an expensive query never holds up a registration; they are
// bounded in size and work (see MaxRegexProgram and WithRegexBudget).
type NameServer struct {
	store Storage
	log   *slog.Logger
	mu    sync.Mutex // serializes read-modify-write operations
	regex *regexGate
}

// NewNameServer returns a name server object using store (nil means a new
// MemoryStorage). It does not register anything; Server does that.
func NewNameServer(store Storage, logger *slog.Logger) *NameServer {
	if store == nil {
		store = NewMemoryStorage()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &NameServer{store: store, log: logger, regex: newRegexGate(0)}
}

// PyroExpose names the parameters so that Python callers can pass any of
// them by keyword, as they can with Pyro4's name server.
func (ns *NameServer) PyroExpose() pyro.Exposure {
	return pyro.Exposure{Params: map[string][]string{
		"lookup":       {"name", "return_metadata"},
		"register":     {"name", "uri", "safe", "metadata"},
		"remove":       {"name", "prefix", "regex"},
		"list":         {"prefix", "regex", "metadata_all", "metadata_any", "return_metadata"},
		"set_metadata": {"name", "metadata"},
		"yplookup":     {"meta_all", "meta_any", "return_metadata"},
	}}
}

// Count returns the number of registrations, the name server's own
// included; under a policy, the number of those the caller may list.
func (ns *NameServer) Count(ctx context.Context) (int, error) {
	if callerOf(ctx) != nil {
		return ns.countVisible(ctx)
	}
	n, err := ns.store.Len()
	return n, storeErr(err)
}

// Ping does nothing; a successful call shows the name server is alive
// (and that the policy, if any, lets the caller in).
func (ns *NameServer) Ping(context.Context) error { return nil }

// Lookup is lookup(name, return_metadata=False): the URI registered under
// name (a URI object on the wire), or with return_metadata the tuple
// (URI, [tags]) for Pyro4 callers, (URI, {tags}) for Pyro5 callers. An unknown name is NamingError("unknown name: <name>").
func (ns *NameServer) Lookup(ctx context.Context, name any, opt ...any) (any, error) {
	if err := argCount("lookup", 1, 2, 1+len(opt)); err != nil {
		return nil, err
	}
	s, ok := name.(string)
	if !ok {
		return nil, &pyro.PythonError{Class: "TypeError", Msg: fmt.Sprintf("can only concatenate str (not %q) to str", py.TypeName(name))}
	}
	e, found, err := ns.store.Get(s)
	if err != nil {
		return nil, storeErr(err)
	}
	if !found {
		return nil, pyro.NewError(pyro.ErrNaming, "unknown name: "+s)
	}
	u, err := pyro.ParseURI(e.URI)
	if err != nil {
		return nil, err
	}
	if truthy(optArg(opt, 0)) {
		return py.Tuple{u, metaValue(ctx, e)}, nil
	}
	return u, nil
}

// Register is register(name, uri, safe=False, metadata=None). uri is a
// URI object or a string (which must parse; it is stored as given);
// metadata is an iterable of str (not a str) stored as a set. With safe,
// an existing name is NamingError("name already registered: <name>");
// otherwise it is replaced.
func (ns *NameServer) Register(ctx context.Context, name, uriArg any, opt ...any) error {
	if err := argCount("register", 2, 4, 2+len(opt)); err != nil {
		return err
	}
	var us string
	switch u := uriArg.(type) {
	case uri.URI:
		us = u.String()
	case string:
		if _, err := pyro.ParseURI(u); err != nil {
			return err
		}
		us = u
	default:
		return typeError("only URIs or strings can be registered")
	}
	n, ok := name.(string)
	if !ok {
		return typeError("name must be a str")
	}
	safe := truthy(optArg(opt, 0))
	tags, err := metadataArg(optArg(opt, 1), "metadata")
	if err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if c, ok := ns.store.(Creator); ok && safe {
		created, err := c.Create(Entry{Name: n, URI: us, Metadata: tags})
		if err != nil {
			return storeErr(err)
		}
		if !created {
			return pyro.NewError(pyro.ErrNaming, "name already registered: "+n)
		}
		ns.log.Debug("naming: register", "name", n, "uri", us)
		return nil
	}
	if safe {
		_, found, err := ns.store.Get(n)
		if err != nil {
			return storeErr(err)
		}
		if found {
			return pyro.NewError(pyro.ErrNaming, "name already registered: "+n)
		}
	}
	ns.log.Debug("naming: register", "name", n, "uri", us)
	return storeErr(ns.store.Put(Entry{Name: n, URI: us, Metadata: tags}))
}

// SetMetadata is set_metadata(name, metadata): it replaces the tags of a
// registration (None or empty clears them). An unknown name is
// NamingError("unknown name: <name>").
func (ns *NameServer) SetMetadata(ctx context.Context, name, metadata any) error {
	n, ok := name.(string)
	if !ok {
		return typeError("name must be a str")
	}
	tags, err := metadataArg(metadata, "metadata")
	if err != nil {
		return err
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if sh, ok := ns.store.(Shared); ok {
		return ns.setMetadataShared(sh, n, tags)
	}
	e, found, err := ns.store.Get(n)
	if err != nil {
		return storeErr(err)
	}
	if !found {
		return pyro.NewError(pyro.ErrNaming, "unknown name: "+n)
	}
	e.Metadata = tags
	return storeErr(ns.store.Put(e))
}

// maxCASTries bounds the compare-and-set attempts of one set_metadata on
// a Shared storage: each failed attempt means another write of the name
// landed in between.
const maxCASTries = 32

// setMetadataShared is set_metadata on a Shared storage: read the entry
// and its revision from the shared store, write it back with the new tags
// only if it is still that revision, and start again otherwise, so that a
// registration or removal another name server made in between is never
// undone.
func (ns *NameServer) setMetadataShared(sh Shared, n string, tags []string) error {
	for range maxCASTries {
		e, rev, found, err := sh.GetRevision(n, true)
		if err != nil {
			return storeErr(err)
		}
		if !found {
			return pyro.NewError(pyro.ErrNaming, "unknown name: "+n)
		}
		e.Metadata = tags
		ok, err := sh.Update(e, rev)
		if err != nil {
			return storeErr(err)
		}
		if ok {
			return nil
		}
	}
	return pyro.NewError(pyro.ErrNaming, fmt.Sprintf("set_metadata %s: the registration changed %d times while being updated; try again", n, maxCASTries))
}

// Remove is remove(name=None, prefix=None, regex=None) and returns how
// many registrations it removed. The exact name is tried first; when it
// is not registered, the prefix, then the regex (Python re.match). The
// name server's own registration is never removed. For a Pyro5 caller, as
// in Pyro5, a name (other than the name server's) is not followed by the
// prefix and regex: an unregistered name answers 0. Under a policy, a
// prefix or regex only reaches the names the caller may list, and the
// removal is refused as a whole if one of those may not be removed.
func (ns *NameServer) Remove(ctx context.Context, opt ...any) (int, error) {
	if err := argCount("remove", 0, 3, len(opt)); err != nil {
		return 0, err
	}
	name, prefix, regex := optArg(opt, 0), optArg(opt, 1), optArg(opt, 2)
	if isPyro5(ctx) {
		if n, done, err := ns.remove5(name); done {
			return n, err
		}
	} else if s, ok := name.(string); ok && s != "" && s != ObjectID {
		ns.mu.Lock()
		n, err := ns.store.Delete(s)
		ns.mu.Unlock()
		if err != nil {
			return 0, storeErr(err)
		}
		if n > 0 {
			ns.log.Debug("naming: remove", "name", s)
			return 1, nil
		}
	}
	var entries []Entry
	var err error
	switch {
	case truthy(prefix):
		entries, err = ns.byPrefix(ctx, prefix)
	case truthy(regex):
		entries, err = ns.byRegex(ctx, regex)
	default:
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name != ObjectID {
			names = append(names, e.Name)
		}
	}
	if len(names) == 0 {
		return 0, nil
	}
	if cl := callerOf(ctx); cl != nil {
		for _, n := range names { // all or nothing: one refused name refuses the removal
			if err := cl.check(OpRemove, "remove", n); err != nil {
				return 0, err
			}
		}
	}
	ns.mu.Lock()
	n, err := ns.store.Delete(names...)
	ns.mu.Unlock()
	if err != nil {
		return 0, storeErr(err)
	}
	ns.log.Debug("naming: removed", "count", n)
	return n, nil
}

// List is list(prefix=None, regex=None, metadata_all=None,
// metadata_any=None, return_metadata=False): a dict name → URI string, or
// with return_metadata name → (URI string, [tags]). At most one filter may
// be given (ValueError otherwise); an empty one lists everything. prefix
// is a plain prefix, regex a Python re.match pattern, metadata_all selects
// entries having all the tags, metadata_any entries having any.
//
// A Pyro5 caller gets Pyro5's list(prefix=None, regex=None,
// return_metadata=False), with the tags as sets; prefix and regex are
// refused together only when both are true values (see Pyro5Interceptor
// for its argument checks).
func (ns *NameServer) List(ctx context.Context, opt ...any) (*py.Dict, error) {
	if err := argCount("list", 0, 5, len(opt)); err != nil {
		return nil, err
	}
	if isPyro5(ctx) {
		return ns.list5(ctx, opt)
	}
	prefix, regex, all, anyOf := optArg(opt, 0), optArg(opt, 1), optArg(opt, 2), optArg(opt, 3)
	n := 0
	for _, f := range []any{prefix, regex, all, anyOf} {
		if f != nil {
			n++
		}
	}
	if n > 1 {
		return nil, &pyro.PythonError{Class: "ValueError", Msg: "you can only filter on one thing at a time"}
	}
	var entries []Entry
	var err error
	switch {
	case truthy(prefix):
		entries, err = ns.byPrefix(ctx, prefix)
	case truthy(regex):
		entries, err = ns.byRegex(ctx, regex)
	case truthy(all):
		entries, err = ns.byMetadata(ctx, all, "metadata_all", true)
	case truthy(anyOf):
		entries, err = ns.byMetadata(ctx, anyOf, "metadata_any", false)
	default:
		entries, err = ns.candidates(ctx)
	}
	if err != nil {
		return nil, err
	}
	return resultDict(ctx, entries, truthy(optArg(opt, 4))), nil
}

// list5 is List for a Pyro5 caller: Pyro5's list(prefix, regex,
// return_metadata).
func (ns *NameServer) list5(ctx context.Context, opt []any) (*py.Dict, error) {
	prefix, regex, withMeta, err := list5Args(opt)
	if err != nil {
		return nil, err
	}
	if truthy(prefix) && truthy(regex) {
		return nil, &pyro.PythonError{Class: "ValueError", Msg: "you can only filter on one thing at a time"}
	}
	var entries []Entry
	switch {
	case truthy(prefix):
		entries, err = ns.byPrefix(ctx, prefix)
	case truthy(regex):
		entries, err = ns.byRegex(ctx, regex)
	default:
		entries, err = ns.candidates(ctx)
	}
	if err != nil {
		return nil, err
	}
	return resultDict(ctx, entries, truthy(withMeta)), nil
}

// scan calls fn with every registration the caller may list, while the
// storage iterates (holding its read lock or read transaction), so fn
// must be cheap: a comparison, a map lookup. Expensive tests (regular
// expressions) run on a copy of the names, outside every lock.
func (ns *NameServer) scan(ctx context.Context, fn func(Entry)) error {
	may := callerOf(ctx).mayList()
	for e, err := range ns.store.All() {
		if err != nil {
			return storeErr(err)
		}
		if may == nil || may(e.Name) {
			fn(e)
		}
	}
	return nil
}

// filter returns the registrations the caller may list that keep (which
// must be cheap, see scan) accepts.
func (ns *NameServer) filter(ctx context.Context, keep func(Entry) bool) ([]Entry, error) {
	var out []Entry
	err := ns.scan(ctx, func(e Entry) {
		if keep(e) {
			out = append(out, e)
		}
	})
	return out, err
}

// candidates returns the registrations the caller may list: all of them
// without a policy.
func (ns *NameServer) candidates(ctx context.Context) ([]Entry, error) {
	return ns.filter(ctx, func(Entry) bool { return true })
}

// countVisible counts the registrations the caller may list.
func (ns *NameServer) countVisible(ctx context.Context) (int, error) {
	n := 0
	err := ns.scan(ctx, func(Entry) { n++ })
	return n, err
}

// byPrefix lists the entries the caller may list whose name starts with
// prefix (a str, or a tuple of str as Python's startswith allows).
func (ns *NameServer) byPrefix(ctx context.Context, prefix any) ([]Entry, error) {
	switch p := prefix.(type) {
	case string:
		if pl, ok := ns.store.(PrefixLister); ok {
			out, err := pl.ListPrefix(p)
			if err != nil {
				return nil, storeErr(err)
			}
			return callerOf(ctx).visible(out), nil
		}
		return ns.filter(ctx, func(e Entry) bool { return strings.HasPrefix(e.Name, p) })
	case py.Tuple:
		ps := make([]string, len(p))
		for i, x := range p {
			s, ok := x.(string)
			if !ok {
				return nil, typeError(fmt.Sprintf("tuple for startswith must only contain str, not %s", py.TypeName(x)))
			}
			ps[i] = s
		}
		return ns.filter(ctx, func(e Entry) bool {
			for _, s := range ps {
				if strings.HasPrefix(e.Name, s) {
					return true
				}
			}
			return false
		})
	}
	return nil, typeError(fmt.Sprintf("startswith first arg must be str or a tuple of str, not %s", py.TypeName(prefix)))
}

// byRegex lists the entries the caller may list whose name matches the
// pattern at its start, within the name server's regex bounds. The
// pattern is matched against a copy of the names, holding no lock; the
// matching entries are then read again (a name removed meanwhile is
// left out).
func (ns *NameServer) byRegex(ctx context.Context, regex any) ([]Entry, error) {
	p, ok := regex.(string)
	if !ok {
		return nil, typeError("first argument must be string or compiled pattern")
	}
	re, err := compilePattern(p)
	if err != nil {
		return nil, err
	}
	var names []string
	if n, err := ns.store.Len(); err == nil {
		names = make([]string, 0, n)
	}
	if err := ns.scan(ctx, func(e Entry) { names = append(names, e.Name) }); err != nil {
		return nil, err
	}
	matched, err := ns.regex.match(ctx, re, names)
	if err != nil || len(matched) == 0 {
		return nil, err
	}
	set := make(map[string]struct{}, len(matched))
	for _, n := range matched {
		set[n] = struct{}{}
	}
	return ns.filter(ctx, func(e Entry) bool {
		_, ok := set[e.Name]
		return ok
	})
}

// byMetadata lists the entries the caller may list having all (or any)
// of the tags.
func (ns *NameServer) byMetadata(ctx context.Context, v any, what string, all bool) ([]Entry, error) {
	if _, ok := v.(string); ok {
		return nil, typeError(what + " should not be a str, but another iterable (set, list, etc)")
	}
	items, err := iterItems(v)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			tags = append(tags, s)
		} else if all {
			return nil, nil // a non-str tag is on no registration
		}
	}
	tags = NormalizeTags(tags)
	want := make(map[string]bool, len(tags))
	for _, t := range tags {
		want[t] = true
	}
	has := func(tags []string) bool {
		n := 0
		for _, t := range tags {
			if want[t] {
				n++
			}
		}
		if all {
			return n == len(want)
		}
		return n > 0
	}
	var out []Entry
	if ml, ok := ns.store.(MetadataLister); ok {
		out, err = ml.ListMetadata(tags, all)
		if err != nil {
			return nil, storeErr(err)
		}
		out = callerOf(ctx).visible(out)
	} else {
		out, err = ns.filter(ctx, func(e Entry) bool { return has(e.Metadata) })
		if err != nil {
			return nil, err
		}
	}
	// the name server's own registration matches by the tags the caller
	// sees (its protocol's class tag only)
	return slices.DeleteFunc(out, func(e Entry) bool { return e.Name == ObjectID && !has(shownTags(ctx, e)) }), nil
}

// register stores a registration without the remote-call checks (the
// server's own registration).
func (ns *NameServer) register(name, u string, tags []string) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.store.Put(Entry{Name: name, URI: u, Metadata: NormalizeTags(tags)})
}

// removeRevision removes name if it is still revision rev of a Shared
// storage (auto-clean).
func (ns *NameServer) removeRevision(sh Shared, name string, rev uint64) (bool, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return sh.DeleteRevision(name, rev)
}

// removeIfURI removes name if it still maps to u (auto-clean).
func (ns *NameServer) removeIfURI(name, u string) (bool, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	e, found, err := ns.store.Get(name)
	if err != nil || !found || e.URI != u {
		return false, err
	}
	n, err := ns.store.Delete(name)
	return n > 0, err
}

// metadataArg checks a metadata argument as Pyro does: None (or any false
// value) is no tags, a str is a TypeError, anything else must be an
// iterable of str.
func metadataArg(v any, what string) ([]string, error) {
	if _, ok := v.(string); ok {
		return nil, typeError(what + " should not be a str, but another iterable (set, list, etc)")
	}
	if !truthy(v) {
		return nil, nil
	}
	items, err := iterItems(v)
	if err != nil {
		return nil, err
	}
	tags := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, typeError(fmt.Sprintf("%s items must be str, not %s", what, py.TypeName(it)))
		}
		tags = append(tags, s)
	}
	return NormalizeTags(tags), nil
}

// iterItems returns the items of a Python iterable value.
func iterItems(v any) ([]any, error) {
	switch x := v.(type) {
	case *py.Set:
		return x.Items(), nil
	case []any:
		return x, nil
	case py.Tuple:
		return x, nil
	case *py.Dict:
		return x.Keys(), nil
	case []byte:
		out := make([]any, len(x))
		for i, b := range x {
			out[i] = int64(b)
		}
		return out, nil
	}
	return nil, typeError(fmt.Sprintf("'%s' object is not iterable", py.TypeName(v)))
}

// truthy is Python's bool(v) for model values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case py.Tuple:
		return len(x) > 0
	case *py.Dict:
		return x.Len() > 0
	case *py.Set:
		return x.Len() > 0
	}
	return true
}

func optArg(opt []any, i int) any {
	if i < len(opt) {
		return opt[i]
	}
	return nil
}

// tagList is the [tags] list of a result.
func tagList(tags []string) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = t
	}
	return out
}

func typeError(msg string) error { return &pyro.PythonError{Class: "TypeError", Msg: msg} }

// argCount checks the number of positional arguments (self not counted)
// and words the error as Python 3 does.
func argCount(method string, min, max, given int) error {
	if given <= max {
		return nil
	}
	var takes string
	if min == max {
		takes = fmt.Sprintf("%d positional argument", max+1)
		if max+1 != 1 {
			takes += "s"
		}
	} else {
		takes = fmt.Sprintf("from %d to %d positional arguments", min+1, max+1)
	}
	return typeError(fmt.Sprintf("NameServer.%s() takes %s but %d were given", method, takes, given+1))
}

// storeErr turns a storage failure into an error for the caller: Pyro
// and Python errors pass unchanged, others become NamingError with the
// storage's own text (the sql storage writes Pyro's "sqlite error in
// setitem: ..." texts).
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pyro.Error
	var ye *pyro.PythonError
	if errors.As(err, &pe) || errors.As(err, &ye) {
		return err
	}
	return pyro.NewError(pyro.ErrNaming, err.Error())
}
