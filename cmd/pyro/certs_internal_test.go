package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"certs", "--host", "localhost", "--host", "127.0.0.1", dir}, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key", "client.crt", "client.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".key") && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, st.Mode().Perm())
		}
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")); err != nil {
		t.Error(err)
	}
	if code := run(context.Background(), []string{"certs", dir}, &out, &errb, nil); code == 0 {
		t.Error("certs overwrote an existing directory's files")
	}
	if code := run(context.Background(), []string{"certs"}, &out, &errb, nil); code != exitUsage {
		t.Errorf("no dir: exit %d", code)
	}
}

func TestGenkeyCommand(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"genkey"}, &out, &errb, nil); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		k := strings.TrimSpace(out.String())
		raw, err := base64.RawURLEncoding.DecodeString(k)
		if err != nil || len(raw) != 32 {
			t.Errorf("key %q: %v (%d bytes)", k, err, len(raw))
		}
		if seen[k] {
			t.Error("same key twice")
		}
		seen[k] = true
	}
}
