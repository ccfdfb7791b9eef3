// Package testkit holds the helpers pyrogo's tests share, so that each
// exists once: a TCP/unix/TLS relay that records what passes
// (relay.go), free ports (ports.go), log capture and a buffer to wait on
// (buffer.go, logs.go), hang detectors (wait.go), child processes that
// announce themselves on stdout (process.go), the memory and CPU of a
// process read from /proc (proc.go), and builds of the pyro command
// (build.go).
//
// It imports nothing of pyrogo but internal/testbound, so the tests of
// every package, the root package's internal tests included, can use it.
// Its neighbours do the parts that need more: internal/testkit/rawpyro
// speaks the wire protocol by hand (hostile clients), internal/testkit/
// pyrotest starts daemons and proxies (it imports the root package, so
// only external tests and other packages use it), and internal/pytest
// runs real Python Pyro4 peers.
//
// Every helper takes the test's testing.TB, stops what it started in
// t.Cleanup, and bounds every wait generously (see Bound): a bound
// catches a hang, it never measures speed.
package testkit
