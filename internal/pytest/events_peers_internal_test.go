package pytest

import (
	"os"
	"testing"
)

// The Python peers proven against each other through the scenarios the
// Go event service runs too (esscenarios.go; events/interop_test.go).

// TestPyEventsFanout runs ESFanoutScenario over every Pyro4 serializer.
func TestPyEventsFanout(t *testing.T) {
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) { ESFanoutScenario(t, PyESStarter, ser) })
	}
}

// TestPyEventsUnsubscribe runs ESUnsubscribeScenario through a Pyro4 name
// server.
func TestPyEventsUnsubscribe(t *testing.T) {
	ns := StartNameServer(t, []string{"-n", "127.0.0.1", "-p", "0"})
	ESUnsubscribeScenario(t, PyESStarter, ns.Ready)
}

// TestPyEventsFullQueueDrops runs ESFullQueueDropScenario.
func TestPyEventsFullQueueDrops(t *testing.T) { ESFullQueueDropScenario(t, PyESStarter) }

// TestPyEventsBlockingQueue runs ESBlockingQueueScenario.
func TestPyEventsBlockingQueue(t *testing.T) { ESBlockingQueueScenario(t, PyESStarter) }

// TestPyEventsPyro5 runs ESPyro5Scenario on the Pyro5 service and peers.
func TestPyEventsPyro5(t *testing.T) { ESPyro5Scenario(t, PyESStarter) }

// TestPyFanoutBench measures the Python baseline of the fan-out benchmark.
// Only with PYROGO_PYBENCH=1:
//
//	PYROGO_PYBENCH=1 go test -run TestPyFanoutBench -v ./internal/pytest
func TestPyFanoutBench(t *testing.T) {
	if os.Getenv("PYROGO_PYBENCH") == "" {
		t.Skip("set PYROGO_PYBENCH=1 to run the fan-out benchmark")
	}
	RunFanout(t, []FanoutTarget{PyFanoutTarget}, 500, 100)
}
