package events_test

import (
	"strings"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
)

// TestPolicyPythonClients: Python Pyro4 and Pyro5 publishers and
// subscribers (their own daemon as subscriber) see the policy's refusals
// as SecurityError with a text that says what was denied, and a
// connection the policy refuses as Pyro's "connection rejected" error.
func TestPolicyPythonClients(t *testing.T) {
	for _, pyro5 := range []bool{false, true} {
		name := "pyro4"
		if pyro5 {
			name = "pyro5"
		}
		t.Run(name, func(t *testing.T) {
			_, u := startPolicyES(t, `
allow connect
allow publish subject=lab.*
allow subscribe subject=lab.*
allow thirdparty subject=lab.shared host=127.0.0.1
`)
			got := pytest.RunPyAttempts(t, u.String(), pyro5, nil,
				"publish:lab.temp",
				"publish:secret.key",
				"subscribe:lab.temp:self",
				"subscribe:secret.key:self",
				"subscribeMatch:lab.*:self",
				"subscribe:lab.temp:PYRO:obj_victim@192.0.2.1:9999",
				"subscribe:lab.shared:PYRO:obj_victim@192.0.2.1:9999",
				"unsubscribe:lab.shared:PYRO:obj_victim@192.0.2.1:9999",
				"unsubscribe:lab.temp:self",
			)
			want := []struct {
				ok  bool
				msg string
			}{
				{true, ""},
				{false, `event server policy denies publish of "secret.key"`},
				{true, ""},
				{false, `event server policy denies subscribe of "secret.key"`},
				{false, `event server policy denies subscribeMatch`},
				{false, "is not on the subscribing client's host (127.0.0.1), and the policy does not allow thirdparty subscribers"},
				{true, ""},
				{true, ""},
				{true, ""},
			}
			for i, a := range got {
				w := want[i]
				if a.OK != w.ok || !w.ok && (a.Error != "SecurityError" || !strings.Contains(a.Msg, w.msg)) {
					t.Errorf("%s: ok=%v %s(%q), want ok=%v SecurityError containing %q", a.Step, a.OK, a.Error, a.Msg, w.ok, w.msg)
				}
			}
		})
		t.Run(name+"/connect refused", func(t *testing.T) {
			_, u := startPolicyES(t, "deny connect host=127.0.0.0/8\nallow all\n")
			for _, a := range pytest.RunPyAttempts(t, u.String(), pyro5, nil, "publish:lab.temp") {
				if a.OK || a.Error != "CommunicationError" || !strings.Contains(a.Msg, "rejected") ||
					!strings.Contains(a.Msg, "event server policy does not allow connections from 127.0.0.1") {
					t.Errorf("%s: ok=%v %s(%q), want the connection rejected by the policy", a.Step, a.OK, a.Error, a.Msg)
				}
			}
		})
	}
}
