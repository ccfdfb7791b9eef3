// Package natstest starts NATS JetStream servers for tests: an embedded
// cluster of one or three nodes (github.com/nats-io/nats-server/v2/server
// running in the test process) or the same cluster as separate
// nats-server processes (built from the Go module with testkit.GoBuild),
// for tests that need to SIGKILL a node. Every node listens on 127.0.0.1
// on free ports and keeps its JetStream files in a t.TempDir; nodes can
// be stopped, killed and restarted on the same ports and files; all are
// stopped in t.Cleanup.
//
// Only tests import this package (it pulls in the NATS server). The
// embedded server leaves no goroutines behind once shut down, so goleak
// needs no ignores; packages using it may still list IgnoreLeaks to be
// safe across server versions.
//
// It serves the name server storage tests of package cluster now and is
// meant for the event server on NATS later: a test asks for a cluster,
// uses Cluster.URL or Cluster.Spec to point the code under test at it, and
// stops or restarts nodes to exercise failures.
package natstest
