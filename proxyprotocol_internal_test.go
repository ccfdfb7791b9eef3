package pyro

import (
	"context"
	"fmt"
	"testing"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/wire"
)

// TestProtocolTableBound: the remembered protocols stay within
// knownProtocolsMax however many addresses a process talks to, and an
// entry is replaced when an address changes protocol.
func TestProtocolTableBound(t *testing.T) {
	tab := &protocolTable{m: map[string]wire.Protocol{}}
	for i := range 3 * knownProtocolsMax {
		tab.set(protocolKey("tcp", fmt.Sprintf("10.0.%d.%d:9090", i/256, i%256)), wire.Protocol502)
		if len(tab.m) > knownProtocolsMax {
			t.Fatalf("%d entries after %d addresses", len(tab.m), i+1)
		}
	}
	k := protocolKey("unix", "/tmp/s")
	tab.set(k, wire.Protocol502)
	tab.set(k, wire.Protocol48)
	if v, ok := tab.get(k); !ok || v != wire.Protocol48 {
		t.Errorf("replaced entry: %v %v", v, ok)
	}
	tab.forget(k)
	if _, ok := tab.get(k); ok {
		t.Error("forgotten entry still there")
	}
}

// TestProtocolChoiceParse: the values of PROTOCOL and WithProtocol.
func TestProtocolChoiceParse(t *testing.T) {
	for in, want := range map[string]protoMode{"": modeAuto, "auto": modeAuto, "AUTO": modeAuto, " 4 ": mode48, "5": mode502} {
		if m, err := parseProtocolChoice(in); err != nil || m != want {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	for _, in := range []string{"48", "502", "6", "pyro5", "4,5"} {
		if _, err := parseProtocolChoice(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if BuiltinConfig().Protocol != ProtocolAuto {
		t.Errorf("default PROTOCOL %q", BuiltinConfig().Protocol)
	}
}

// BenchmarkProtocolFirstConnect measures what auto detection costs: a new
// proxy's connect and first call (echo) against Pyro4's and Pyro5's echo
// servers, with the protocol fixed, detected (the table emptied before
// every proxy) or remembered.
//
//	go test -run X -bench ProtocolFirstConnect -benchtime 300x
func BenchmarkProtocolFirstConnect(b *testing.B) {
	pytest.Pyro5(b)
	servers := map[string]string{"pyro4": pytest.StartEchoServer(b), "pyro5": pytest.StartEchoServer5(b, pytest.Echo5{})}
	fixed := map[string]string{"pyro4": Protocol4, "pyro5": Protocol5}
	ctx := context.Background()
	for _, peer := range []string{"pyro4", "pyro5"} {
		for _, mode := range []string{"fixed", "auto_detect", "auto_remembered"} {
			b.Run(peer+"/"+mode, func(b *testing.B) {
				choice := ProtocolAuto
				if mode == "fixed" {
					choice = fixed[peer]
				}
				for b.Loop() {
					if mode == "auto_detect" {
						knownProtocols.mu.Lock()
						clear(knownProtocols.m)
						knownProtocols.mu.Unlock()
					}
					p, err := NewProxy(servers[peer], nil, WithProtocol(choice))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := p.Call(ctx, "echo", "x"); err != nil {
						b.Fatal(err)
					}
					p.Close()
				}
			})
		}
	}
}
