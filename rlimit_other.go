//go:build !unix

package pyro

// openFileLimit reports that there is no per-process open-file limit to
// read on this system.
func openFileLimit() (uint64, bool) { return 0, false }
