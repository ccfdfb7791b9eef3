package cluster

import (
	"errors"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro/naming"
)

// validKey is NATS's key-value key syntax (nats.go jetstream's keyValid).
var validKey = regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)

func TestNameKeys(t *testing.T) {
	seen := map[string]string{}
	for _, name := range hostileNames {
		k := nameKey(name)
		if !validKey.MatchString(k) || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || len(k) > maxDirectKey+1 {
			t.Fatalf("nameKey(%.40q) = %.60q: not a usable NATS key", name, k)
		}
		if prev, dup := seen[k]; dup {
			t.Fatalf("names %.40q and %.40q share key %q", prev, name, k)
		}
		seen[k] = name
		if back, ok := keyName(k); ok != (k[0] == keyDirect) || ok && back != name {
			t.Fatalf("keyName(nameKey(%.40q)) = %.40q, %v", name, back, ok)
		}
	}
	if _, ok := keyName("n!!"); ok {
		t.Fatal("keyName accepted a key that is not base64url")
	}
}

func TestValueRoundTrip(t *testing.T) {
	for _, name := range hostileNames {
		e := naming.Entry{Name: name, URI: "PYRO:x@h:1", Metadata: naming.NormalizeTags([]string{name, "", "b", "a"})}
		got, err := decodeEntry(encodeEntry(e))
		if err != nil || got.Name != e.Name || got.URI != e.URI || !slices.Equal(got.Metadata, e.Metadata) {
			t.Fatalf("round trip of %.40q: %v, %v", name, got, err)
		}
	}
}

// Hostile values (another writer of the bucket, or a corrupted one) are
// refused without allocating more than they are.
func TestHostileValues(t *testing.T) {
	good := encodeEntry(naming.Entry{Name: "n", URI: "u", Metadata: []string{"a", "b"}})
	bad := [][]byte{
		nil,
		{},
		{2, 1, 'n', 1, 'u', 0},            // unknown version
		{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, // name length 4 GiB, no bytes
		{1, 1, 'n', 1, 'u', 0xff, 0xff, 0xff, 0x7f},                           // 268 M tags, no bytes
		{1, 1, 'n', 1, 'u', 2, 1, 'b', 1, 'a'},                                // tags not sorted
		{1, 1, 'n', 1, 'u', 2, 1, 'a', 1, 'a'},                                // duplicate tag
		{1, 1, 'n', 1, 'u', 0, 'x'},                                           // trailing byte
		{1, 1, 'n', 1},                                                        // truncated
		{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // varint overflow
		good[:len(good)-1],
	}
	for _, v := range bad {
		if _, err := decodeEntry(v); !errors.Is(err, errValue) {
			t.Errorf("decodeEntry(%q) = %v, want errValue", v, err)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = decodeEntry(bad[4])
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("a value claiming 268 M tags allocated %d bytes", n)
	}
	st := &Store{spec: Spec{Bucket: "b"}}
	if _, err := st.decode(nameKey("other"), good); err == nil {
		t.Error("a value under another name's key was accepted")
	}
}

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec("nats://al%40ice:p%2Fw@h1:4222,[::1]:4223/reg_1?replicas=1&timeout=2s&max_value=1024&max_bytes=1048576&creds=/c&tls_ca=/ca")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Servers, []string{"nats://h1:4222", "nats://[::1]:4223"}) || s.Bucket != "reg_1" || s.User != "al@ice" ||
		s.Password != "p/w" || s.Replicas != 1 || s.Timeout.String() != "2s" || s.MaxValue != 1024 || s.MaxBytes != 1<<20 ||
		s.Creds != "/c" || s.TLSCA != "/ca" {
		t.Fatalf("ParseSpec = %+v", s)
	}
	if r := s.Redacted(); strings.Contains(r, "p/w") || strings.Contains(r, "p%2Fw") || !strings.Contains(r, "xxxxx") {
		t.Fatalf("Redacted = %q", r)
	}
	if s, err := ParseSpec("//h:1/b"); err != nil || s.Timeout != DefaultTimeout || s.MaxValue != DefaultMaxValue || s.Replicas != 0 {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	for _, bad := range []string{
		"nats:h:1/b", "nats://h:1", "nats://h:1/", "nats://h:1/a.b", "nats://h:1/a>", "nats://h/b", "nats://h:0/b",
		"nats://h:99999/b", "nats://:1/b", "nats://h:1/b?replicas=0", "nats://h:1/b?replicas=9", "nats://h:1/b?timeout=-1s",
		"nats://h:1/b?max_value=1", "nats://h:1/b?max_bytes=10", "nats://h:1/b?tls_cert=/c", "nats://h:1/b?x=1",
		"nats://:pw@h:1/b", "nats://h:1/" + strings.Repeat("b", 65),
	} {
		if _, err := ParseSpec(bad); !errors.Is(err, ErrSpec) || !errors.Is(err, naming.ErrStorageSpec) {
			t.Errorf("ParseSpec(%q) = %v, want a spec error", bad, err)
		}
	}
}
