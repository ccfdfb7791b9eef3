//go:build !linux

package netnstest

import "testing"

// VethPair is two network namespaces joined by a veth pair (Linux only).
type VethPair struct {
	A, B         string
	AddrA, AddrB string
}

// New skips the test: network namespaces are a Linux feature.
func New(t testing.TB) *VethPair {
	t.Helper()
	t.Skip("network namespaces need Linux")
	return nil
}

// In is not reached (New skipped the test).
func In(t testing.TB, ns string, f func()) { t.Helper(); t.Skip("network namespaces need Linux") }

// Run is not reached (New skipped the test).
func Run(t testing.TB, ns string, env []string, argv ...string) (string, string) {
	t.Helper()
	t.Skip("network namespaces need Linux")
	return "", ""
}

// Proc is a process started by Start.
type Proc struct{}

// Lines returns nothing.
func (p *Proc) Lines() []string { return nil }

// Stop does nothing.
func (p *Proc) Stop() []string { return nil }

// Kill does nothing.
func (p *Proc) Kill() {}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return nil }

// Stderr returns what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return "" }

// Start is not reached (New skipped the test).
func Start(t testing.TB, ns string, env []string, ready string, argv ...string) *Proc {
	t.Helper()
	t.Skip("network namespaces need Linux")
	return nil
}
