package pyro

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
)

// TestConfigItemNames: the items are exactly Pyro4's items that pyrogo
// gives a meaning plus pyrogo's own, named by the fields' pyro tags; the
// items nothing reads are gone.
func TestConfigItemNames(t *testing.T) {
	var names []string
	for _, e := range BuiltinConfig().Entries() {
		names = append(names, e.Name)
	}
	want := []string{"AUTOPROXY", "BROADCAST_ADDRS", "COMMTIMEOUT", "COMPRESSION", "CONNECTION_CAP",
		"DETAILED_TRACEBACK", "DOTTEDNAMES", "ES_BLOCKQUEUE", "ES_BLOCKTIMEOUT", "ES_QUEUESIZE", "HMAC_KEY", "HOST", "IDLE_TIMEOUT", "ITER_STREAMING",
		"ITER_STREAM_LIFETIME", "ITER_STREAM_LINGER", "ITER_STREAM_MAX", "ITER_STREAM_MAXCONN", "LOGFILE",
		"LOGLEVEL", "LOGWIRE", "MAXCONNECTIONS", "MAX_MESSAGE_SIZE", "MAX_RETRIES", "MEMORY_BUDGET", "METADATA",
		"NATHOST", "NATPORT", "NS_AUTOCLEAN", "NS_BCHOST", "NS_BCPORT", "NS_HOST", "NS_PORT", "ONEWAY_MAX",
		"ONEWAY_MAXCONN", "ONEWAY_THREADED", "POLLTIMEOUT", "PREFER_IP_VERSION", "PROTOCOL", "REQUEST_MINRATE",
		"REQUEST_TIMEOUT", "SERIALIZER", "SERIALIZERS_ACCEPTED", "SOCK_REUSE", "SSL", "SSL_CACERTS",
		"SSL_CLIENTCERT", "SSL_CLIENTKEY", "SSL_CLIENTKEYPASSWD", "SSL_REQUIRECLIENTCERT", "SSL_SERVERCERT",
		"SSL_SERVERKEY", "SSL_SERVERKEYPASSWD", "WRITE_TIMEOUT"}
	if !slices.Equal(names, want) {
		t.Errorf("items:\n%v\nwant:\n%v", names, want)
	}
	// every exported field has its tag, and the tag is the item's name
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("pyro"), ",")
		if _, ok := configItemNamed(name); !ok {
			t.Errorf("field %s: tag %q names no item", f.Name, name)
		}
	}
	// Pyro4 items without a meaning in pyrogo: their variables are
	// ignored, even with values that would not parse
	c := BuiltinConfig()
	if err := c.ApplyEnv([]string{"PYRO_THREADPOOL_SIZE=forty", "PYRO_REQUIRE_EXPOSE=maybe", "PYRO_SERVERTYPE=multiplex"}); err != nil {
		t.Errorf("ignored items: %v", err)
	}
	if err := c.Set("THREADPOOL_SIZE", "40"); err == nil || !strings.Contains(err.Error(), "unknown item") {
		t.Errorf("Set THREADPOOL_SIZE: %v", err)
	}
}

// TestConfigDurations: times are time.Duration in Go and seconds in
// text, parsed and printed as Pyro does.
func TestConfigDurations(t *testing.T) {
	c := BuiltinConfig()
	if c.PollTimeout != 2*time.Second || c.IterStreamLinger != 30*time.Second || c.WriteTimeout != 30*time.Second ||
		c.RequestTimeout != 30*time.Second || c.CommTimeout != 0 {
		t.Errorf("builtin durations: %v %v %v %v %v", c.PollTimeout, c.IterStreamLinger, c.WriteTimeout, c.RequestTimeout, c.CommTimeout)
	}
	err := c.ApplyEnv([]string{"PYRO_COMMTIMEOUT= 1.5 ", "PYRO_NS_AUTOCLEAN=3", "PYRO_ITER_STREAM_LIFETIME=0.0001",
		"PYRO_IDLE_TIMEOUT=1e-9", "PYRO_REQUEST_TIMEOUT=-1", "PYRO_POLLTIMEOUT=0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CommTimeout != 1500*time.Millisecond || c.NSAutoclean != 3*time.Second || c.IterStreamLifetime != 100*time.Microsecond ||
		c.IdleTimeout != time.Nanosecond || c.RequestTimeout != -time.Second || c.PollTimeout != 100*time.Millisecond {
		t.Errorf("env durations: %+v", c)
	}
	printed := map[string]string{}
	for _, e := range c.Entries() {
		printed[e.Name] = e.Value
	}
	for name, want := range map[string]string{"COMMTIMEOUT": "1.5", "NS_AUTOCLEAN": "3.0", "ITER_STREAM_LIFETIME": "0.0001",
		"IDLE_TIMEOUT": "1e-09", "REQUEST_TIMEOUT": "-1.0", "POLLTIMEOUT": "0.1", "ITER_STREAM_LINGER": "30.0", "WRITE_TIMEOUT": "30.0"} {
		if printed[name] != want {
			t.Errorf("%s printed as %q, want %q", name, printed[name], want)
		}
	}
	for _, bad := range []string{"soon", "nan", "inf", "-inf", "1e30", "1s"} {
		if err := BuiltinConfig().ApplyEnv([]string{"PYRO_COMMTIMEOUT=" + bad}); err == nil || !strings.Contains(err.Error(), "PYRO_COMMTIMEOUT="+bad) {
			t.Errorf("PYRO_COMMTIMEOUT=%s: %v", bad, err)
		}
	}
	// every printed value reads back as the same value
	c.HMACKey = nil
	for _, e := range c.Entries() {
		if e.Name == "HMAC_KEY" || strings.HasSuffix(e.Name, "PASSWD") {
			continue
		}
		back := BuiltinConfig()
		if err := back.Set(e.Name, e.Value); err != nil {
			t.Errorf("Set(%s, %q): %v", e.Name, e.Value, err)
			continue
		}
		it, _ := configItemNamed(e.Name)
		if got := back.text(it); got != e.Value {
			t.Errorf("%s: %q read back as %q", e.Name, e.Value, got)
		}
	}
}

// TestConfigDurationsLikePyro: the seconds of the duration items print
// as Python's Pyro4 prints the same environment (pyro4-check-config).
func TestConfigDurationsLikePyro(t *testing.T) {
	py := pytest.Python(t)
	env := []string{"PYRO_COMMTIMEOUT=1.5", "PYRO_POLLTIMEOUT=0.25", "PYRO_NS_AUTOCLEAN=3",
		"PYRO_ITER_STREAM_LIFETIME=0.0001", "PYRO_ITER_STREAM_LINGER=1e-05"}
	res := pytest.Cmd{Args: []string{"-c", "import Pyro4.configuration as c; print(c.config.dump())"}, Env: env}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("%s: %s", py, res.Stderr)
	}
	pyro := map[string]string{}
	for _, line := range strings.Split(res.Stdout, "\n") {
		if name, value, ok := strings.Cut(line, " = "); ok {
			pyro[name] = value
		}
	}
	c := BuiltinConfig()
	if err := c.ApplyEnv(env); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range c.Entries() {
		it, _ := configItemNamed(e.Name)
		if it.kind != kindDuration {
			continue
		}
		want, ok := pyro[e.Name]
		if !ok {
			continue // a pyrogo item
		}
		n++
		if e.Value != want {
			t.Errorf("%s = %s, Pyro4 prints %s", e.Name, e.Value, want)
		}
	}
	if n != 5 {
		t.Errorf("compared %d duration items with Pyro4's, want 5 (Pyro4 printed %v)", n, pyro)
	}
}
