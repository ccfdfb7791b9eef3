package pyro

import (
	"fmt"
	"testing"

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
