package natstest

import (
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"

	"github.com/pyrogo/pyro/internal/testkit"
)

// IgnoreLeaks are goleak options for goroutines of the NATS server or
// client that may outlive a test by a moment (none are known now; the
// list is kept for server upgrades).
var IgnoreLeaks = []goleak.Option{}

// ServerPackage is the nats-server main package that process clusters
// build.
const ServerPackage = "github.com/nats-io/nats-server/v2"

// Cluster is a set of JetStream nodes routed to each other.
type Cluster struct {
	Nodes []*Node
	name  string
}

// Node is one NATS server of a Cluster.
type Node struct {
	Name        string
	Port        int    // client port on 127.0.0.1
	ClusterPort int    // route port (0 for a single node)
	Dir         string // JetStream storage directory

	t       testing.TB
	routes  string
	process bool

	mu   sync.Mutex
	srv  *server.Server   // embedded, while running
	proc *testkit.Process // process, while running
}

// Start starts an embedded cluster of n nodes (1 or 3, or any n) and
// waits until JetStream is usable. The nodes are stopped in t.Cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return start(t, n, false)
}

// StartProcesses starts the cluster as n nats-server processes built from
// the Go module, so that Node.Kill can SIGKILL one.
func StartProcesses(t testing.TB, n int) *Cluster {
	t.Helper()
	return start(t, n, true)
}

func start(t testing.TB, n int, process bool) *Cluster {
	c := &Cluster{name: "pyrogo-test"}
	var routes []string
	for i := range n {
		nd := &Node{Name: fmt.Sprintf("n%d", i+1), Port: testkit.FreeTCPPort(t), Dir: t.TempDir(), t: t, process: process}
		if n > 1 {
			nd.ClusterPort = testkit.FreeTCPPort(t)
			routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(nd.ClusterPort))
		}
		c.Nodes = append(c.Nodes, nd)
	}
	for _, nd := range c.Nodes {
		nd.routes = strings.Join(routes, ",")
	}
	t.Cleanup(func() {
		for _, nd := range c.Nodes {
			nd.Stop()
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, nd := range c.Nodes {
		if process { // StartProcess fails the test itself: not from a goroutine
			errs[i] = nd.start(c.name)
			continue
		}
		wg.Go(func() { errs[i] = nd.start(c.name) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.WaitReady(t)
	return c
}

// Addrs returns the nodes' client addresses, "127.0.0.1:PORT".
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, nd := range c.Nodes {
		out[i] = nd.Addr()
	}
	return out
}

// URL returns "nats://" and every node's address, comma-separated.
func (c *Cluster) URL() string { return "nats://" + strings.Join(c.Addrs(), ",") }

// Spec returns the name server storage spec for bucket on every node:
// "nats://127.0.0.1:P1,127.0.0.1:P2,.../BUCKET".
func (c *Cluster) Spec(bucket string) string { return c.URL() + "/" + bucket }

// WaitReady waits until every running node accepts clients and the
// cluster has a JetStream meta leader.
func (c *Cluster) WaitReady(t testing.TB) {
	t.Helper()
	testkit.Eventually(t, "NATS JetStream ready", func() bool {
		leader := false
		for _, nd := range c.Nodes {
			if !nd.Running() {
				continue
			}
			conn, err := net.DialTimeout("tcp", nd.Addr(), time.Second)
			if err != nil {
				return false
			}
			conn.Close()
			if nd.jetStreamLeader() {
				leader = true
			}
			if s := nd.Server(); s != nil && nd.ClusterPort != 0 && !s.JetStreamIsCurrent() {
				return false
			}
		}
		return leader || c.Nodes[0].process
	})
}

// Addr returns the node's client address.
func (nd *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(nd.Port) }

// Running reports whether the node runs.
func (nd *Node) Running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.srv != nil || nd.proc != nil
}

// Server returns the embedded server (nil for a process or a stopped
// node).
func (nd *Node) Server() *server.Server {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.srv
}

func (nd *Node) jetStreamLeader() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.srv == nil {
		return false
	}
	if nd.ClusterPort == 0 {
		return nd.srv.JetStreamEnabled()
	}
	return nd.srv.JetStreamIsLeader()
}

func (nd *Node) options(cluster string) *server.Options {
	o := &server.Options{
		ServerName: nd.Name,
		Host:       "127.0.0.1",
		Port:       nd.Port,
		JetStream:  true,
		StoreDir:   nd.Dir,
		NoSigs:     true,
		NoLog:      true,
		HTTPPort:   0,
	}
	if nd.ClusterPort != 0 {
		o.Cluster = server.ClusterOpts{Name: cluster, Host: "127.0.0.1", Port: nd.ClusterPort}
		o.Routes = server.RoutesFromStr(nd.routes)
	}
	return o
}

func (nd *Node) start(cluster string) error {
	if nd.process {
		return nd.startProcess(cluster)
	}
	s, err := server.NewServer(nd.options(cluster))
	if err != nil {
		return fmt.Errorf("natstest: node %s: %w", nd.Name, err)
	}
	s.Start()
	if !s.ReadyForConnections(testkit.Bound()) {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("natstest: node %s not ready within %v", nd.Name, testkit.Bound())
	}
	nd.mu.Lock()
	nd.srv = s
	nd.mu.Unlock()
	return nil
}

func (nd *Node) startProcess(cluster string) error {
	bin := testkit.GoBuild(nd.t, ServerPackage, true)
	args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(nd.Port), "-js", "-sd", nd.Dir, "-n", nd.Name}
	if nd.ClusterPort != 0 {
		args = append(args, "--cluster_name", cluster, "--cluster", "nats://127.0.0.1:"+strconv.Itoa(nd.ClusterPort), "--routes", nd.routes)
	}
	// nats-server logs to stderr; the shell sends it to stdout, where
	// StartProcess looks for the ready line, and execs the server so that
	// the process killed is the server.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `exec "$0" "$@" 2>&1`, bin}, args...)...)
	p := testkit.StartProcess(nd.t, cmd, regexp.MustCompile(`Server is ready`))
	nd.mu.Lock()
	nd.proc = p
	nd.mu.Unlock()
	return nil
}

// Stop shuts the node down (an embedded server cleanly, a process with
// SIGKILL) and waits until it has ended. It does nothing on a stopped node.
func (nd *Node) Stop() {
	nd.mu.Lock()
	s, p := nd.srv, nd.proc
	nd.srv, nd.proc = nil, nil
	nd.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
	if p != nil {
		p.Stop()
	}
}

// Kill ends the node abruptly: SIGKILL for a process; an embedded server
// is shut down without waiting for its clients (the closest an embedded
// server gets).
func (nd *Node) Kill() {
	nd.mu.Lock()
	p := nd.proc
	nd.mu.Unlock()
	if p != nil {
		_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	}
	nd.Stop()
}

// Restart starts a stopped node again on the same ports and files.
func (nd *Node) Restart(t testing.TB, c *Cluster) {
	t.Helper()
	if err := nd.start(c.name); err != nil {
		t.Fatal(err)
	}
	c.WaitReady(t)
}
