package main

import (
	"strings"
	"testing"
)

// TestOpenServerWarning: the "Anyone can connect" warning appears only
// when nothing restricts who can connect.
func TestOpenServerWarning(t *testing.T) {
	const warning = "Anyone can connect to this server!"
	open := startEcho(t, cleanEnviron(), "-H", "127.0.0.1", "-p", "0")
	if !strings.Contains(open.stdout.String(), warning) {
		t.Errorf("open server without warning:\n%s", open.stdout)
	}
	pass := writeSecret(t, "allowed", "a long passphrase\n", 0o600)
	guarded := startEcho(t, cleanEnviron(), "-H", "127.0.0.1", "-p", "0", "--passphrase-file", pass)
	if strings.Contains(guarded.stdout.String(), warning) {
		t.Errorf("passphrase-protected server warns that anyone can connect:\n%s", guarded.stdout)
	}
	keyed := startEcho(t, append(cleanEnviron(), "PYRO_HMAC_KEY=k"), "-H", "127.0.0.1", "-p", "0")
	if strings.Contains(keyed.stdout.String(), warning) {
		t.Errorf("keyed server warns:\n%s", keyed.stdout)
	}
}
