package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testkit"
	"github.com/pyrogo/pyro/mobile"
	"github.com/pyrogo/pyro/naming"
)

const basicModuleDir = "mobile/testdata/mods/basic"

func hexID(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Usage errors of every subcommand exit 2 with a message naming what is
// wrong; -h exits 0.
func TestMobileUsage(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "x.wasm")
	if err := os.WriteFile(notWasm, []byte("not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := "PYRO:Pyro.MobileCode@127.0.0.1:1"
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "pyro mobile: need a COMMAND"},
		{[]string{"fly"}, exitUsage, `pyro mobile: unknown command "fly"`},
		{[]string{"help"}, exitOK, "keygen -o NAME"},
		{[]string{"keygen"}, exitUsage, "need -o NAME"},
		{[]string{"keygen", "-o", filepath.Join(dir, "k"), "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"sign", notWasm}, exitUsage, "need -key FILE"},
		{[]string{"sign", "-key", "k.key"}, exitUsage, "need one MODULE"},
		{[]string{"sign", "-key", filepath.Join(dir, "none.key"), notWasm}, exitUsage, "no such file"},
		{[]string{"inspect"}, exitUsage, "need one MODULE"},
		{[]string{"inspect", notWasm}, exitRemote, "not a WebAssembly module"},
		{[]string{"load", uri}, exitUsage, "need URI and MODULE"},
		{[]string{"load", uri, filepath.Join(dir, "none.wasm")}, exitUsage, "no such file"},
		{[]string{"load", "-sig", notWasm, uri, notWasm}, exitUsage, "signature"},
		{[]string{"load", "nonsense", notWasm}, exitUsage, "invalid uri"},
		{[]string{"call", uri, "id"}, exitUsage, "need URI, ID and FUNCTION"},
		{[]string{"call", uri, "id", "f", "text"}, exitUsage, "a string needs quotes"},
		{[]string{"call", "--timeout", "-1", uri, "id", "f"}, exitUsage, "invalid --timeout"},
		{[]string{"list"}, exitUsage, "need URI"},
		{[]string{"unload", uri}, exitUsage, "need URI and ID"},
		{[]string{"serve", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"serve", "--allow-hash", "abc"}, exitUsage, "is not a hex SHA-256"},
		{[]string{"serve", "--allow-host", "not an address"}, exitUsage, "--allow-host"},
		{[]string{"serve", "--memory", "0"}, exitUsage, "--memory"},
		{[]string{"serve", "--call-timeout", "0"}, exitUsage, "--call-timeout"},
		{[]string{"serve", "--trust", filepath.Join(dir, "none.pub")}, exitUsage, "--trust"},
		{[]string{"serve", "--trust", notWasm}, exitUsage, "public key file"},
		{[]string{"serve", "--grant", "nodot"}, exitUsage, "--grant"},
		{[]string{"serve", "--grant", "Pyro.MobileCode.load"}, exitUsage, "cannot be granted"},
		{[]string{"-h"}, exitOK, "keygen -o NAME"},
		{[]string{"serve", "-h"}, exitOK, "Refusal is the default"},
	} {
		code, out, errs := mobileCmd(t, cleanEnviron(), c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("pyro mobile %q: exit %d, stdout %q stderr %q; want exit %d and %q", c.args, code, out, errs, c.code, c.want)
		}
	}
	// a wrong URI is a transport error (2), not a remote one
	code, _, errs := mobileCmd(t, cleanEnviron(), "list", "--timeout", "5", uri)
	if code != exitUsage || !strings.Contains(errs, "pyro mobile list:") {
		t.Errorf("list of a closed port: exit %d, %q", code, errs)
	}
}

// keygen writes a key pair in mobile's formats (private key mode 0600)
// and never overwrites; sign writes a signature that verifies, and
// replaces one only with -f.
func TestMobileKeygenSign(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "team")
	code, out, errs := mobileCmd(t, nil, "keygen", "-o", name)
	if code != exitOK || !strings.Contains(out, "team.key") {
		t.Fatalf("keygen: exit %d %q %q", code, out, errs)
	}
	st, err := os.Stat(name + ".key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", st, err)
	}
	privPEM, _ := os.ReadFile(name + ".key")
	pubPEM, _ := os.ReadFile(name + ".pub")
	priv, err := mobile.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := mobile.ParsePublicKeys(pubPEM)
	if err != nil || len(pubs) != 1 || !pubs[0].Equal(priv.Public()) {
		t.Fatalf("public key %v does not match: %v", pubs, err)
	}
	// no overwrite, of either file
	code, _, errs = mobileCmd(t, nil, "keygen", "-o", name)
	if code != exitRemote || !strings.Contains(errs, "exists") {
		t.Errorf("keygen again: exit %d %q", code, errs)
	}
	if again, _ := os.ReadFile(name + ".key"); !bytes.Equal(again, privPEM) {
		t.Error("keygen overwrote the private key")
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other+".pub", []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := mobileCmd(t, nil, "keygen", "-o", other); code != exitRemote {
		t.Errorf("keygen over an existing .pub: exit %d", code)
	}
	if _, err := os.Stat(other + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keygen left a half pair: %v", err)
	}

	mod := filepath.Join(dir, "basic.wasm")
	copyFile(t, wasmModule(t, basicModuleDir), mod)
	module, _ := os.ReadFile(mod)
	code, out, errs = mobileCmd(t, nil, "sign", "-key", name+".key", mod)
	if code != exitOK || !strings.HasPrefix(out, hexID(module)) {
		t.Fatalf("sign: exit %d %q %q", code, out, errs)
	}
	sigText, _ := os.ReadFile(mod + ".sig")
	sig, err := mobile.ParseSignature(sigText)
	if err != nil || !mobile.Verify(pubs[0], module, sig) {
		t.Fatalf("signature %q does not verify: %v", sigText, err)
	}
	code, _, errs = mobileCmd(t, nil, "sign", "-key", name+".key", mod)
	if code != exitRemote || !strings.Contains(errs, "-f replaces it") {
		t.Errorf("sign again: exit %d %q", code, errs)
	}
	if code, _, errs := mobileCmd(t, nil, "sign", "-f", "-key", name+".key", mod); code != exitOK {
		t.Errorf("sign -f: exit %d %q", code, errs)
	}
	// a public key is not a private key
	if code, _, errs := mobileCmd(t, nil, "sign", "-key", name+".pub", "-o", filepath.Join(dir, "x.sig"), mod); code != exitUsage || !strings.Contains(errs, "PRIVATE KEY") {
		t.Errorf("sign with a public key: exit %d %q", code, errs)
	}
}

// inspect shows the id, the imports (a forbidden one marked) and each
// export's convention.
func TestMobileInspect(t *testing.T) {
	path := wasmModule(t, basicModuleDir)
	module, _ := os.ReadFile(path)
	code, out, errs := mobileCmd(t, nil, "inspect", path)
	if code != exitOK {
		t.Fatalf("inspect: exit %d %q", code, errs)
	}
	for _, want := range []string{
		"id: " + hexID(module) + "\n",
		fmt.Sprintf("size: %d bytes\n", len(module)),
		"ok       wasi_snapshot_preview1.fd_write (func)",
		`value    pyro_fn_summary: call as "summary" (i32, i32) -> i64`,
		"numeric  add (i32, i32) -> i32",
		"reserved pyro_alloc (i32) -> i32",
		"-        memory (memory)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = mobileCmd(t, nil, "inspect", wasmModule(t, "mobile/testdata/mods/fsopen"))
	if code != exitOK || !strings.Contains(out, "REFUSED  wasi_snapshot_preview1.path_open (func)") {
		t.Errorf("inspect fsopen: exit %d\n%s", code, out)
	}
}

// mobileServer is a "pyro mobile serve" process (the binary, built
// without -race: wazero compiles modules ten times slower under it).
type mobileServer struct {
	bin string
	uri string
	p   *testkit.Process
}

func startMobileServe(t *testing.T, args ...string) *mobileServer {
	t.Helper()
	bin := testkit.GoBuild(t, testkit.PyroPackage, true)
	cmd := exec.Command(bin, append([]string{"mobile", "serve", "-n", "127.0.0.1"}, args...)...)
	cmd.Env = cleanEnviron()
	p := testkit.StartProcess(t, cmd, testkit.Prefix("mobile uri: "))
	return &mobileServer{bin: bin, uri: p.Ready, p: p}
}

// pyro runs the built command with args.
func (s *mobileServer) pyro(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = cleanEnviron()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("%v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// The CLI round trip with the built command: keygen → sign → serve
// --trust → load → call → list → unload; an unsigned module, a module
// with another module's signature (tampered) and a call of an unknown
// function fail with the server's reason and exit 1.
func TestMobileServeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "team")
	mod := filepath.Join(dir, "basic.wasm")
	copyFile(t, wasmModule(t, basicModuleDir), mod)
	module, _ := os.ReadFile(mod)
	id := hexID(module)
	var srv *mobileServer
	run := func(args ...string) (int, string, string) { t.Helper(); return srv.pyro(t, args...) }
	srv = &mobileServer{bin: testkit.GoBuild(t, testkit.PyroPackage, true)}
	if code, out, errs := run("mobile", "keygen", "-o", name); code != 0 {
		t.Fatalf("keygen: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := run("mobile", "sign", "-key", name+".key", mod); code != 0 || !strings.HasPrefix(out, id) {
		t.Fatalf("sign: exit %d %q %q", code, out, errs)
	}
	srv = startMobileServe(t, "--trust", name+".pub")
	if !strings.Contains(srv.p.Output.String(), "Accepting modules signed by one of 1 trusted keys.") {
		t.Errorf("start-up message:\n%s", srv.p.Output)
	}
	if code, out, errs := run("mobile", "load", srv.uri, mod); code != 0 || out != id+"\n" {
		t.Fatalf("load: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := run("mobile", "call", srv.uri, id, "add", "2", "40"); code != 0 || out != "42\n" {
		t.Errorf("call add: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := run("mobile", "call", srv.uri, id, "summary", "b'abc'", "97"); code != 0 || out != "{'above': 2, 'count': 3, 'max': 99, 'sum': 294}\n" {
		t.Errorf("call summary: exit %d %q %q", code, out, errs)
	}
	code, out, errs := run("mobile", "call", srv.uri, id, "nosuch")
	if code != exitRemote || !strings.Contains(errs, `pyro mobile call: ValueError: mobile: module `+id[:12]+` has no function "nosuch"`) {
		t.Errorf("call nosuch: exit %d %q %q", code, out, errs)
	}
	code, out, errs = run("mobile", "list", srv.uri)
	if code != 0 || !strings.HasPrefix(out, fmt.Sprintf("%s  %d bytes  loaders 1 ['client at 127.0.0.1']  functions ['add', ", id, len(module))) {
		t.Errorf("list: exit %d %q %q", code, out, errs)
	}

	// tampered: another module (a custom section added) with this one's
	// signature
	tampered := filepath.Join(dir, "tampered.wasm")
	if err := os.WriteFile(tampered, withCustomSection(module, "x", "evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = run("mobile", "load", "-sig", mod+".sig", srv.uri, tampered)
	if code != exitRemote || !strings.Contains(errs, "SecurityError: mobile: module") ||
		!strings.Contains(errs, "refused: its signature does not verify with any of the 1 trusted keys") {
		t.Errorf("tampered load: exit %d %q", code, errs)
	}
	unsigned := filepath.Join(dir, "unsigned.wasm") // no unsigned.wasm.sig
	copyFile(t, mod, unsigned)
	code, _, errs = run("mobile", "load", srv.uri, unsigned)
	if code != exitRemote || !strings.Contains(errs, "refused: it is not signed") {
		t.Errorf("unsigned load: exit %d %q", code, errs)
	}

	// the URI of another object of the daemon means its mobile code object
	other := strings.Replace(srv.uri, mobile.ObjectID, "Pyro.Daemon", 1)
	if code, _, errs := run("mobile", "unload", other, id); code != 0 {
		t.Errorf("unload: exit %d %q", code, errs)
	}
	if code, out, errs := run("mobile", "list", srv.uri); code != 0 || out != "" {
		t.Errorf("list after unload: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := run("mobile", "call", srv.uri, id, "add", "1", "2"); code != exitRemote || !strings.Contains(errs, "ValueError") {
		t.Errorf("call after unload: exit %d %q", code, errs)
	}
}

// Without --trust or --allow-* the server says it refuses everything,
// and does; --allow-hash accepts exactly the listed module.
func TestMobileServeRefusesByDefault(t *testing.T) {
	mod := wasmModule(t, basicModuleDir)
	module, _ := os.ReadFile(mod)
	srv := startMobileServe(t)
	if !strings.Contains(srv.p.Output.String(), "Warning: no --trust or --allow-* flag: every module is refused.") {
		t.Errorf("start-up message:\n%s", srv.p.Output)
	}
	code, _, errs := srv.pyro(t, "mobile", "load", srv.uri, mod)
	if code != exitRemote || !strings.Contains(errs, "refused: no code validator is configured") {
		t.Errorf("load: exit %d %q", code, errs)
	}

	other := withCustomSection(module, "x", "y")
	srv = startMobileServe(t, "--allow-hash", hexID(other))
	if code, _, errs := srv.pyro(t, "mobile", "load", srv.uri, mod); code != exitRemote || !strings.Contains(errs, "is not in the allow-list") {
		t.Errorf("load of an unlisted module: exit %d %q", code, errs)
	}
	path := filepath.Join(t.TempDir(), "other.wasm")
	if err := os.WriteFile(path, other, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := srv.pyro(t, "mobile", "load", srv.uri, path); code != 0 || out != hexID(other)+"\n" {
		t.Errorf("load of the listed module: exit %d %q %q", code, out, errs)
	}
}

// A Python Pyro4 client loads a module signed with "pyro mobile sign"
// into "pyro mobile serve --trust" (the signature file's text as load's
// signature argument) and calls it; unsigned, it is refused with the
// reason.
func TestMobileServePython(t *testing.T) {
	pytest.Python(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "team")
	mod := filepath.Join(dir, "basic.wasm")
	copyFile(t, wasmModule(t, basicModuleDir), mod)
	module, _ := os.ReadFile(mod)
	if code, _, errs := mobileCmd(t, nil, "keygen", "-o", name); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := mobileCmd(t, nil, "sign", "-key", name+".key", mod); code != 0 {
		t.Fatal(errs)
	}
	srv := startMobileServe(t, "--trust", name+".pub")
	out := pytest.RunPyMobile(t, srv.uri, false, nil,
		pytest.MobileStep{Op: "load", Args: []any{map[string]any{"$file": mod}}},
		pytest.MobileStep{Op: "load", Args: []any{map[string]any{"$file": mod}, map[string]any{"$text": mod + ".sig"}}},
		pytest.MobileStep{Op: "call", Args: []any{hexID(module), "summary", map[string]any{"$bytes": "YWJj"}, 97}},
		pytest.MobileStep{Op: "unload", Args: []any{hexID(module)}},
	)
	if r := out[0]; r.OK || r.Error != "SecurityError" || !strings.Contains(r.Msg, "refused: it is not signed") {
		t.Errorf("unsigned load: %+v", r)
	}
	if r := out[1]; !r.OK || r.Result != hexID(module) {
		t.Errorf("signed load: %+v", r)
	}
	if r := out[2]; !r.OK || fmt.Sprint(r.Result) != "map[above:2 count:3 max:99 sum:294]" {
		t.Errorf("call: %+v", r)
	}
	if r := out[3]; !r.OK {
		t.Errorf("unload: %+v", r)
	}
}

// --allow-identity with passphrases: the server's --passphrase-file makes
// identities #0, #1, ...; a client's --passphrase-file authenticates it,
// and only the allowed identity may load. A client without a passphrase
// is not let in at all.
func TestMobileServeAllowIdentity(t *testing.T) {
	mod := wasmModule(t, basicModuleDir)
	module, _ := os.ReadFile(mod)
	serverFile := writeSecret(t, "server.pass", "first secret phrase\nsecond secret phrase\n", 0o600)
	alice := writeSecret(t, "alice.pass", "first secret phrase\n", 0o600)
	bob := writeSecret(t, "bob.pass", "second secret phrase\n", 0o600)
	srv := startMobileServe(t, "--passphrase-file", serverFile, "--allow-identity", "#0")
	if out := srv.p.Output.String(); !strings.Contains(out, "Accepting modules loaded by #0.") || strings.Contains(out, "Anyone can connect") {
		t.Errorf("start-up message:\n%s", out)
	}
	code, _, errs := srv.pyro(t, "mobile", "load", "--passphrase-file", bob, srv.uri, mod)
	if code != exitRemote || !strings.Contains(errs, `refused: the client at 127.0.0.1 with identity "#1" may not load modules`) {
		t.Errorf("bob's load: exit %d %q", code, errs)
	}
	if code, out, errs := srv.pyro(t, "mobile", "load", "--passphrase-file", alice, srv.uri, mod); code != 0 || out != hexID(module)+"\n" {
		t.Errorf("alice's load: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := srv.pyro(t, "mobile", "list", srv.uri); code != exitUsage || errs == "" {
		t.Errorf("list without a passphrase: exit %d %q", code, errs)
	}
	// a client may unload only its own load
	if code, _, errs := srv.pyro(t, "mobile", "unload", "--passphrase-file", bob, srv.uri, hexID(module)); code != exitRemote || !strings.Contains(errs, "SecurityError") {
		t.Errorf("bob's unload of alice's module: exit %d %q", code, errs)
	}
	if code, _, errs := srv.pyro(t, "mobile", "unload", "--passphrase-file", alice, srv.uri, hexID(module)); code != 0 {
		t.Errorf("alice's unload: exit %d %q", code, errs)
	}
}

// The client commands take a PYRONAME of the mobile code object, found
// through the name server of PYRO_NS_HOST/PYRO_NS_PORT.
func TestMobilePyroname(t *testing.T) {
	mod := wasmModule(t, basicModuleDir)
	module, _ := os.ReadFile(mod)
	ns, env := nsEnv(t, nil)
	srv := startMobileServe(t, "--allow-hash", hexID(module))
	p, err := pyro.NewProxyURI(ns.uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := naming.NewClient(p).Register(context.Background(), "lab.mobile", srv.uri, false, nil); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := mobileCmd(t, env, "load", "PYRONAME:lab.mobile", mod); code != 0 || out != hexID(module)+"\n" {
		t.Fatalf("load: exit %d %q %q", code, out, errs)
	}
	if code, out, errs := mobileCmd(t, env, "call", "PYRONAME:lab.mobile", hexID(module), "add", "20", "22"); code != 0 || out != "42\n" {
		t.Errorf("call: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := mobileCmd(t, env, "list", "PYRONAME:no.such.name"); code != exitRemote || !strings.Contains(errs, "NamingError: unknown name: no.such.name") {
		t.Errorf("unknown name: exit %d %q", code, errs)
	}
}
