// Package defaultresolver carries the default resolver of PYRONAME: and
// PYROMETA: URIs from package naming, which installs it when it is
// imported, to package pyro, which uses it for proxies without a resolver
// of their own. It exists because naming imports pyro: pyro cannot name
// naming's resolver, and an exported variable in pyro would let any code
// replace the resolver of every proxy.
package defaultresolver

import "sync/atomic"

var installed atomic.Pointer[any]

// Install sets the default resolver once; package naming calls it from
// its init function. A second call panics: there is one default.
func Install(r any) {
	if r == nil || !installed.CompareAndSwap(nil, &r) {
		panic("defaultresolver: Install called twice or with nil")
	}
}

// Get returns the installed resolver, or nil.
func Get() any {
	if p := installed.Load(); p != nil {
		return *p
	}
	return nil
}
