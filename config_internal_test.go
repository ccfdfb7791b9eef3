package pyro

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestConfigEnv(t *testing.T) {
	c := BuiltinConfig()
	err := c.ApplyEnv([]string{"PYRO_HOST=0.0.0.0", "PYRO_COMPRESSION=on", "PYRO_NS_PORT=9999",
		"PYRO_COMMTIMEOUT=1.5", "PYRO_SERIALIZERS_ACCEPTED=serpent, json", "PYRO_HMAC_KEY=k", "OTHER=1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "0.0.0.0" || !c.Compression || c.NSPort != 9999 || c.CommTimeout != 1500*time.Millisecond || string(c.HMACKey) != "k" {
		t.Errorf("env not applied: %+v", c)
	}
	// Pyro does not trim list items
	if strings.Join(c.SerializersAccepted, "|") != "serpent| json" {
		t.Errorf("serializers %q", c.SerializersAccepted)
	}
	// PYRO_HOST does not move NS_HOST
	if c.NSHost != "localhost" {
		t.Errorf("NS_HOST = %q", c.NSHost)
	}
	if c.Source("HOST") != SourceEnv || c.Source("NS_HOST") != SourceBuiltin {
		t.Errorf("sources %v %v", c.Source("HOST"), c.Source("NS_HOST"))
	}
	c.NSHost = "elsewhere"
	if c.Source("NS_HOST") != SourceCode {
		t.Errorf("assigned field source %v", c.Source("NS_HOST"))
	}
	if err := c.Set("MAX_RETRIES", "3"); err != nil || c.MaxRetries != 3 || c.Source("MAX_RETRIES") != SourceCode {
		t.Errorf("Set: %v %d", err, c.MaxRetries)
	}
	for _, bad := range []string{"PYRO_COMPRESSION=maybe", "PYRO_NS_PORT=x", "PYRO_COMMTIMEOUT=soon"} {
		if err := BuiltinConfig().ApplyEnv([]string{bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestConfigEntriesMaskSecrets(t *testing.T) {
	c := BuiltinConfig()
	c.ApplyEnv([]string{"PYRO_HMAC_KEY=topsecret", "PYRO_SSL_SERVERKEYPASSWD=hunter2"})
	var names []string
	for _, e := range c.Entries() {
		names = append(names, e.Name)
		if strings.Contains(e.Value, "topsecret") || strings.Contains(e.Value, "hunter2") {
			t.Errorf("%s shows a secret", e.Name)
		}
	}
	for _, want := range []string{"HOST", "NS_HOST", "NS_PORT", "COMMTIMEOUT", "SERIALIZERS_ACCEPTED", "HMAC_KEY", "SSL_CACERTS", "MAXCONNECTIONS", "DOTTEDNAMES"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("%s missing from Entries", want)
		}
	}
}

// TestHostileEnvironmentIgnored: a daemon built from BuiltinConfig is not
// affected by PYRO_HOST=0.0.0.0 or PYRO_SERIALIZERS_ACCEPTED=pickle.
func TestHostileEnvironmentIgnored(t *testing.T) {
	t.Setenv("PYRO_HOST", "0.0.0.0")
	t.Setenv("PYRO_SERIALIZERS_ACCEPTED", "pickle")
	d, err := NewDaemon(BuiltinConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ip := d.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Errorf("bound to %v", ip)
	}
	if d.accepted[4] || !d.accepted[1] {
		t.Errorf("accepted serializers %v", d.accepted)
	}
	// the environment-reading config does pick them up, and pickle is refused outright
	env, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDaemon(env); err == nil || !strings.Contains(err.Error(), "arbitrary code") {
		t.Errorf("daemon accepting pickle: %v", err)
	}
}
