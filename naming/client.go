package naming

import (
	"context"
	"fmt"
	"slices"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/py"
)

// Client is a typed Go view of a name server proxy (Go or Python name
// server alike). It makes the same calls, with the same arguments, as a
// Python program would.
type Client struct {
	// P is the proxy for the name server object.
	P *pyro.Proxy
}

// NewClient wraps a name server proxy (from Locate, or
// pyro.NewProxy("PYRO:Pyro.NameServer@host:9090", cfg)).
func NewClient(p *pyro.Proxy) *Client { return &Client{P: p} }

// Ping calls ping().
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.P.Call(ctx, "ping")
	return err
}

// Count calls count().
func (c *Client) Count(ctx context.Context) (int, error) {
	return pyro.CallT[int](ctx, c.P, "count")
}

// Lookup calls lookup(name).
func (c *Client) Lookup(ctx context.Context, name string) (pyro.URI, error) {
	v, err := c.P.Call(ctx, "lookup", name)
	if err != nil {
		return pyro.URI{}, err
	}
	return uriValue(v)
}

// LookupMetadata calls lookup(name, return_metadata=True) and returns the
// URI and the tags in the order the name server sent them.
func (c *Client) LookupMetadata(ctx context.Context, name string) (pyro.URI, []string, error) {
	v, err := c.P.CallKw(ctx, "lookup", []any{name}, map[string]any{"return_metadata": true})
	if err != nil {
		return pyro.URI{}, nil, err
	}
	return ParseLookup(v)
}

// ParseLookup reads the result of lookup(name, return_metadata=True): the
// pair (URI, tags), the tags a list (Pyro4) or a set (Pyro5).
func ParseLookup(v any) (pyro.URI, []string, error) {
	items, err := pairOf(v)
	if err != nil {
		return pyro.URI{}, nil, err
	}
	u, err := uriValue(items[0])
	if err != nil {
		return pyro.URI{}, nil, err
	}
	tags, err := stringItems(items[1])
	return u, tags, err
}

// Register calls register(name, uri, safe=safe, metadata=tags); tags nil
// sends None. uri may be a pyro.URI or a string.
func (c *Client) Register(ctx context.Context, name string, uri any, safe bool, tags []string) error {
	kw := map[string]any{"safe": safe}
	if tags != nil {
		kw["metadata"] = tagSet(tags)
	}
	switch x := uri.(type) {
	case pyro.URI, string:
	case fmt.Stringer:
		uri = x.String()
	}
	_, err := c.P.CallKw(ctx, "register", []any{name, uri}, kw)
	return err
}

// SetMetadata calls set_metadata(name, tags); empty tags clear them.
func (c *Client) SetMetadata(ctx context.Context, name string, tags []string) error {
	_, err := c.P.Call(ctx, "set_metadata", name, tagSet(tags))
	return err
}

// Remove calls remove(name) and returns the number removed (0 or 1).
func (c *Client) Remove(ctx context.Context, name string) (int, error) {
	return pyro.CallT[int](ctx, c.P, "remove", name)
}

// RemovePrefix calls remove(prefix=prefix).
func (c *Client) RemovePrefix(ctx context.Context, prefix string) (int, error) {
	return c.removeKw(ctx, "prefix", prefix)
}

// RemoveRegex calls remove(regex=pattern).
func (c *Client) RemoveRegex(ctx context.Context, pattern string) (int, error) {
	return c.removeKw(ctx, "regex", pattern)
}

func (c *Client) removeKw(ctx context.Context, key, val string) (int, error) {
	v, err := c.P.CallKw(ctx, "remove", nil, map[string]any{key: val})
	if err != nil {
		return 0, err
	}
	var n int
	if err := py.Convert(&n, v); err != nil {
		return 0, pyro.NewError(pyro.ErrProtocol, "remove() returned "+py.TypeName(v))
	}
	return n, nil
}

// Filter selects what List returns; at most one field may be set (the
// name server refuses more with ValueError).
type Filter struct {
	Prefix      string   // names starting with this
	Regex       string   // names matching this Python pattern at their start
	MetadataAll []string // registrations having all these tags
	MetadataAny []string // registrations having any of these tags
}

// Registration is one entry of a List result.
type Registration struct {
	Name     string
	URI      string   // as stored (a string)
	Metadata []string // in the order the name server sent them
}

// List calls list(...) with return_metadata=True and the filter as
// keyword arguments; the registrations come in the name server's order.
// When the proxy speaks Pyro5's protocol (it has connected in 502), a
// metadata filter alone is asked of yplookup (Pyro5's list has none;
// yplookup selects the same registrations).
func (c *Client) List(ctx context.Context, f Filter) ([]Registration, error) {
	if c.P.Protocol() == protocol502 && f.Prefix == "" && f.Regex == "" && (len(f.MetadataAll) > 0) != (len(f.MetadataAny) > 0) {
		return c.Yplookup(ctx, f.MetadataAll, f.MetadataAny)
	}
	kw := map[string]any{"return_metadata": true}
	if f.Prefix != "" {
		kw["prefix"] = f.Prefix
	}
	if f.Regex != "" {
		kw["regex"] = f.Regex
	}
	if f.MetadataAll != nil {
		kw["metadata_all"] = tagSet(f.MetadataAll)
	}
	if f.MetadataAny != nil {
		kw["metadata_any"] = tagSet(f.MetadataAny)
	}
	v, err := c.P.CallKw(ctx, "list", nil, kw)
	if err != nil {
		return nil, err
	}
	return ParseList(v)
}

// Yplookup calls Pyro5's yplookup(meta_all=all, return_metadata=True),
// or with all empty yplookup(meta_any=anyOf, return_metadata=True): the
// registrations having all the tags of all, or any of anyOf, in the name
// server's order. Pyro5's name server and pyrogo's have it; Pyro4's has
// not (use List with a Filter there).
func (c *Client) Yplookup(ctx context.Context, all, anyOf []string) ([]Registration, error) {
	kw := map[string]any{"return_metadata": true}
	if len(all) > 0 {
		kw["meta_all"] = tagSet(all)
	} else {
		kw["meta_any"] = tagSet(anyOf)
	}
	v, err := c.P.CallKw(ctx, "yplookup", nil, kw)
	if err != nil {
		return nil, err
	}
	return ParseList(v)
}

// ParseList reads the result of list(..., return_metadata=True) or
// yplookup(..., return_metadata=True): a dict name → (uri, [tags]) (a set
// of tags from a Pyro5 name server).
func ParseList(v any) ([]Registration, error) {
	d, ok := v.(*py.Dict)
	if !ok {
		return nil, pyro.NewError(pyro.ErrProtocol, "list() returned "+py.TypeName(v))
	}
	out := make([]Registration, 0, d.Len())
	for k, val := range d.All() {
		name, ok := k.(string)
		if !ok {
			return nil, pyro.NewError(pyro.ErrProtocol, "list() returned a key of type "+py.TypeName(k))
		}
		items, err := pairOf(val)
		if err != nil {
			return nil, err
		}
		us, ok := items[0].(string)
		if !ok {
			u, err := uriValue(items[0])
			if err != nil {
				return nil, err
			}
			us = u.String()
		}
		tags, err := stringItems(items[1])
		if err != nil {
			return nil, err
		}
		out = append(out, Registration{Name: name, URI: us, Metadata: tags})
	}
	return out, nil
}

// tagSet is tags as a Python set (what Python callers send).
func tagSet(tags []string) *py.Set {
	s := py.NewSet(len(tags), false)
	for _, t := range tags {
		_ = s.Add(t)
	}
	return s
}

func uriValue(v any) (pyro.URI, error) {
	switch x := v.(type) {
	case pyro.URI:
		return x, nil
	case string:
		return pyro.ParseURI(x)
	}
	return pyro.URI{}, pyro.NewError(pyro.ErrProtocol, "expected a URI, got "+py.TypeName(v))
}

func pairOf(v any) ([]any, error) {
	var items []any
	switch x := v.(type) {
	case py.Tuple:
		items = x
	case []any:
		items = x
	}
	if len(items) != 2 {
		return nil, pyro.NewError(pyro.ErrProtocol, "expected a (uri, metadata) pair, got "+py.TypeName(v))
	}
	return items, nil
}

func stringItems(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	items, err := iterItems(v)
	if err != nil {
		return nil, pyro.NewError(pyro.ErrProtocol, "metadata is "+py.TypeName(v))
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			s = py.Repr(it)
		}
		out = append(out, s)
	}
	return slices.Clip(out), nil
}
