package mobile

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyrogo/pyro"
)

// TestValidators: through a daemon with passphrase identities, unsigned,
// wrongly signed, unknown-hash and wrong-identity modules are refused
// with the reason; a signed module from an allowed identity is accepted.
func TestValidators(t *testing.T) {
	bin := goModule(t, "basic")
	other := rawModule(nil, []rawFunc{{export: "f"}}, 1, -1, nil)
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	_, wrongPriv, _ := GenerateKey()
	var mu sync.Mutex
	var seen []*Request
	record := ValidatorFunc(func(_ context.Context, r *Request) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
		return nil
	})
	s := startServed(t, []pyro.DaemonOption{pyro.WithAllowedIdentities(map[string]string{"alice": "pw-alice", "bob": "pw-bob"})},
		WithValidator(record, AllowIdentities("alice"), SignedBy(pub)))
	alice := s.proxy(t, pyro.WithIdentification("pw-alice"), pyro.WithSerializer("msgpack"))
	bob := s.proxy(t, pyro.WithIdentification("pw-bob"), pyro.WithSerializer("msgpack"))
	ctx := ctxT(t)
	sig := Sign(priv, bin)

	_, err = alice.Call(ctx, "load", bin)
	wantRemote(t, err, "Pyro4.errors.SecurityError", "refused: it is not signed")
	_, err = alice.Call(ctx, "load", bin, Sign(wrongPriv, bin))
	wantRemote(t, err, "Pyro4.errors.SecurityError", "refused: its signature does not verify with any of the 1 trusted keys")
	_, err = alice.Call(ctx, "load", bin, Sign(priv, other)) // a signature of another module
	wantRemote(t, err, "Pyro4.errors.SecurityError", "does not verify")
	_, err = alice.Call(ctx, "load", bin, sig[:10])
	wantRemote(t, err, "Pyro4.errors.SecurityError", "signature is 10 bytes")
	_, err = bob.Call(ctx, "load", bin, sig)
	wantRemote(t, err, "Pyro4.errors.SecurityError", `refused: the client at 127.0.0.1 with identity "bob" may not load modules`)

	id, err := alice.Call(ctx, "load", bin, sig)
	if err != nil || id != idOf(bin) {
		t.Fatalf("signed load: %v, %v", id, err)
	}
	// the signature file's text is accepted as a str
	if id2, err := alice.Call(ctx, "load", bin, string(FormatSignature(sig))); err != nil || id2 != id {
		t.Fatalf("load with a base64 signature: %v, %v", id2, err)
	}
	// anyone who may connect may call it; only a loader may unload it
	if got, err := bob.Call(ctx, "call", id, "add", 1, 2); err != nil || got != int64(3) {
		t.Fatalf("bob's call: %v, %v", got, err)
	}
	_, err = bob.Call(ctx, "unload", id)
	wantRemote(t, err, "Pyro4.errors.SecurityError", `was not loaded by the client at 127.0.0.1 with identity "bob"`)

	mu.Lock()
	r := seen[len(seen)-1]
	mu.Unlock()
	if r.Client.Identity != "alice" || r.Client.Host() != "127.0.0.1" || r.ID != idOf(bin) || r.Size != len(bin) ||
		len(r.Info.Imports) == 0 || !bytes.Equal(r.Signature, sig) || !bytes.Equal(r.Module, bin) {
		t.Fatalf("validator saw %+v", r)
	}
	if _, err := alice.Call(ctx, "unload", id); err != nil {
		t.Fatal(err)
	}
}

func TestValidatorsNoneAndHashes(t *testing.T) {
	bin := goModule(t, "basic")
	other := rawModule(nil, []rawFunc{{export: "f"}}, 1, -1, nil)
	ctx := ctxT(t)
	none := newTestService(t)
	_, err := none.Load(ctx, bin, nil)
	if !IsRefused(err) || !strings.Contains(err.Error(), "no code validator is configured") {
		t.Fatalf("no validator: %v", err)
	}
	allow, err := AllowHashes(idOf(other))
	if err != nil {
		t.Fatal(err)
	}
	s := startServed(t, nil, WithValidator(allow))
	p := s.proxy(t, pyro.WithSerializer("msgpack"))
	_, err = p.Call(ctx, "load", bin)
	wantRemote(t, err, "Pyro4.errors.SecurityError", "its SHA-256 "+idOf(bin)+" is not in the allow-list")
	if id, err := p.Call(ctx, "load", other); err != nil || id != idOf(other) {
		t.Fatalf("allowed hash: %v, %v", id, err)
	}
	if _, err := AllowHashes("abc"); err == nil {
		t.Fatal("AllowHashes accepted a non-hash")
	}
	hosts, err := AllowHosts("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	s2 := startServed(t, nil, WithValidator(hosts))
	_, err = s2.proxy(t, pyro.WithSerializer("msgpack")).Call(ctx, "load", other)
	wantRemote(t, err, "Pyro4.errors.SecurityError", "the client at 127.0.0.1 may not load modules")
}

// IsRefused reports whether err is a refusal (test helper).
func IsRefused(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == ErrRefused
}

func TestKeyFiles(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub2, _, _ := GenerateKey()
	privPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKey(privPEM)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	a, _ := MarshalPublicKey(pub)
	b, _ := MarshalPublicKey(pub2)
	ring, err := ParsePublicKeys(append(a, b...))
	if err != nil || len(ring) != 2 || !ring[0].Equal(pub) || !ring[1].Equal(pub2) {
		t.Fatalf("key ring: %v %d", err, len(ring))
	}
	module := []byte("\x00asm\x01\x00\x00\x00")
	sig := Sign(priv, module)
	text := FormatSignature(sig)
	if !bytes.HasSuffix(text, []byte("\n")) || bytes.Count(text, []byte("\n")) != 1 {
		t.Fatalf("signature file %q", text)
	}
	back, err := ParseSignature(append([]byte("  "), text...))
	if err != nil || !bytes.Equal(back, sig) || !Verify(pub, module, back) || Verify(pub2, module, back) {
		t.Fatalf("signature round trip: %v", err)
	}
	if !bytes.Equal(SignedMessage(module)[:17], []byte("pyrogo-mobile-v1\x00")) || len(SignedMessage(module)) != 49 {
		t.Fatalf("signed message %q", SignedMessage(module))
	}
	for _, bad := range []string{"", "!!!", "AAAA", strings.Repeat("A", 200)} {
		if _, err := ParseSignature([]byte(bad)); err == nil {
			t.Errorf("ParseSignature(%q) accepted", bad)
		}
	}
	if _, err := ParsePublicKeys(privPEM); err == nil {
		t.Error("a private key read as a public key file")
	}
	if _, err := ParsePrivateKey(a); err == nil {
		t.Error("a public key read as a private key file")
	}
}

// TestKeyFilesOpenSSL: keys made and signatures made by OpenSSL work, so
// the formats are the standard ones.
func TestKeyFilesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	run := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(openssl, args...).Output()
		if err != nil {
			t.Skipf("openssl %v: %v", args, err)
		}
		return out
	}
	run("genpkey", "-algorithm", "ed25519", "-out", keyFile)
	pemText, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(pemText)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := ParsePublicKeys(run("pkey", "-in", keyFile, "-pubout"))
	if err != nil || !pubs[0].Equal(priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("openssl public key: %v", err)
	}
	module := rawModule(nil, []rawFunc{{export: "f"}}, 1, -1, nil)
	msgFile := filepath.Join(dir, "msg")
	if err := os.WriteFile(msgFile, SignedMessage(module), 0o600); err != nil {
		t.Fatal(err)
	}
	sig := run("pkeyutl", "-sign", "-rawin", "-inkey", keyFile, "-in", msgFile)
	if !Verify(pubs[0], module, sig) {
		t.Fatal("openssl's signature of SignedMessage does not verify")
	}
}

// TestQuotas: modules per client, modules in all, calls per client,
// unloading frees the quota.
func TestQuotas(t *testing.T) {
	ctx := ctxT(t)
	mods := make([][]byte, 4)
	for i := range mods {
		mods[i] = rawModule(nil, []rawFunc{{body: i32const(int32(i)), results: []ValueType{I32}, export: "f"}}, 1, -1, nil)
	}
	s := startServed(t, nil, WithValidator(acceptAll()), WithMaxModules(3, 2, 0))
	p := s.proxy(t, pyro.WithSerializer("msgpack"))
	for i := 0; i < 2; i++ {
		if _, err := p.Call(ctx, "load", mods[i]); err != nil {
			t.Fatal(err)
		}
	}
	_, err := p.Call(ctx, "load", mods[2])
	wantRemote(t, err, "builtins.MemoryError", "has 2 modules loaded, the most one client may have")
	// loading a loaded module again costs nothing
	if _, err := p.Call(ctx, "load", mods[1]); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Call(ctx, "call", idOf(mods[1]), "f"); err != nil || got != int64(1) {
		t.Fatalf("f = %v, %v", got, err)
	}
	if _, err := p.Call(ctx, "unload", idOf(mods[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "load", mods[2]); err != nil {
		t.Fatalf("after unload: %v", err)
	}
	// a local load takes the last global slot
	if _, err := s.svc.Load(ctx, mods[3], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Load(ctx, mods[0], nil); err == nil || !strings.Contains(err.Error(), "3 modules are loaded") {
		t.Fatalf("global bound: %v", err)
	}
}

// TestConcurrencyBounds: a client at its bound of running calls is
// refused at once while others are served; Close stops a running call.
func TestConcurrencyBounds(t *testing.T) {
	bin := goModule(t, "basic")
	ctx := ctxT(t)
	s := startServed(t, []pyro.DaemonOption{pyro.WithAllowedIdentities(map[string]string{"a": "pw-a", "b": "pw-b"})},
		WithValidator(acceptAll()), WithMaxInstances(4, 1), WithCallTimeout(time.Minute))
	a1 := s.proxy(t, pyro.WithIdentification("pw-a"), pyro.WithSerializer("msgpack"))
	a2 := s.proxy(t, pyro.WithIdentification("pw-a"))
	b := s.proxy(t, pyro.WithIdentification("pw-b"))
	id, err := a1.Call(ctx, "load", bin)
	if err != nil {
		t.Fatal(err)
	}
	spun := make(chan error, 1)
	go func() {
		_, err := a1.Call(ctx, "call", id, "spin")
		spun <- err
	}()
	// wait until the spin runs
	for {
		s.svc.mu.Lock()
		n := s.svc.running["identity a"]
		s.svc.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case err := <-spun:
			t.Fatalf("spin ended: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	_, err = a2.Call(ctx, "call", id, "add", 1, 2)
	wantRemote(t, err, "builtins.MemoryError", `identity "a" already runs 1 calls`)
	if got, err := b.Call(ctx, "call", id, "add", 1, 2); err != nil || got != int64(3) {
		t.Fatalf("b: %v %v", got, err)
	}
	// closing the service stops the endless call
	go s.svc.Close()
	err = <-spun
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("spin after Close: %v", err)
	}
}

// TestUnloadDuringCall: a module unloaded while one of its calls runs
// stays until that call ends, and is gone after.
func TestUnloadDuringCall(t *testing.T) {
	bin := goModule(t, "basic")
	s := newTestService(t, WithValidator(acceptAll()), WithCallTimeout(time.Second))
	ctx := ctxT(t)
	id, err := s.Load(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Call(ctx, id, "spin")
		done <- err
	}()
	for {
		s.mu.Lock()
		n := s.mods[id].calls
		s.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Unload(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(ctx, id, "add", int64(1), int64(2)); err == nil || !strings.Contains(err.Error(), "no module") {
		t.Fatalf("call after unload: %v", err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "time cap") {
		t.Fatalf("running call: %v", err)
	}
	if len(s.Modules(ctx)) != 0 {
		t.Fatal("module still listed")
	}
}
