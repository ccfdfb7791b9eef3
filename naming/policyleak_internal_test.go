package naming

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
)

// leakPolicy lets eve and mallory see (look up, list) only public.* and
// the name server itself; eve may remove public.*, mallory may register
// and remove anything.
const leakPolicy = `
allow connect
allow lookup,list name=public.*,Pyro.*
allow remove name=public.* identity=eve
allow register,remove name=* identity=mallory
`

// startLeakNS starts a name server under leakPolicy with two public and
// two secret registrations, and returns clients for eve and mallory.
func startLeakNS(t *testing.T, opts ...ServerOption) (s *Server, eve, mallory *Client) {
	t.Helper()
	policy, err := ParsePolicyString(leakPolicy)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]ServerOption{WithPolicy(policy), withIdentities(map[string]string{"eve": "eve-pass", "mallory": "mallory-pass"})}, opts...)
	s = startNS(t, nil, opts...)
	for _, n := range []string{"public.a", "secret.payroll.db", "public.b", "secret.keys"} {
		if err := s.NameServer().register(n, "PYRO:x@127.0.0.1:1", []string{"tag"}); err != nil {
			t.Fatal(err)
		}
	}
	eve = nsClient(t, s.URI().String(), pyro.WithIdentification("eve-pass"))
	mallory = nsClient(t, s.URI().String(), pyro.WithIdentification("mallory-pass"))
	return s, eve, mallory
}

// secretsLeft lists the secret names still registered (a local call,
// which no policy restricts).
func secretsLeft(t *testing.T, s *Server) []string {
	t.Helper()
	var out []string
	for e, err := range s.NameServer().store.All() {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Name, "secret.") {
			out = append(out, e.Name)
		}
	}
	slices.Sort(out)
	return out
}

// sameAnswer checks that two calls about a name that exists and one that
// does not got the same answer, the name aside.
func sameAnswer(t *testing.T, what string, existing, missing error, existingName, missingName string) {
	t.Helper()
	e, m := fmt.Sprint(existing), fmt.Sprint(missing)
	e = strings.ReplaceAll(e, existingName, "NAME")
	m = strings.ReplaceAll(m, missingName, "NAME")
	if e != m {
		t.Errorf("%s tells a hidden name from a missing one:\n  existing: %v\n  missing:  %v", what, existing, missing)
	}
	if existing == nil || !isSecurityError(existing) {
		t.Errorf("%s of a hidden name: %v, want a SecurityError", what, existing)
	}
}

// Issue 8, item 5: a client that may see only public.* learns nothing
// about the other names from any answer: remove by prefix or regex
// neither names nor touches them, count counts what it may list, and
// the exact-name calls whose answer would tell whether a name exists
// (register with safe, set_metadata, remove) answer alike for a hidden
// name and a missing one.
func TestPolicyLeaksNoHiddenName(t *testing.T) {
	s, eve, mallory := startLeakNS(t)
	ctx := ctxT(t)
	const hidden, missing = "secret.payroll.db", "secret.nothing"

	// count: the name server and the two public names
	for who, c := range map[string]*Client{"eve": eve, "mallory": mallory} {
		if n, err := c.Count(ctx); err != nil || n != 3 {
			t.Errorf("%s count: %d %v, want 3", who, n, err)
		}
	}
	// eve's removals by prefix and regex: no error naming a hidden name,
	// nothing hidden removed
	for _, call := range []struct {
		name string
		f    func() (int, error)
		want int
	}{
		{"remove(prefix='secret')", func() (int, error) { return eve.RemovePrefix(ctx, "secret") }, 0},
		{"remove(regex='s')", func() (int, error) { return eve.RemoveRegex(ctx, "s") }, 0},
		{"remove(regex='.*')", func() (int, error) { return eve.RemoveRegex(ctx, ".*") }, 2},
	} {
		n, err := call.f()
		if err != nil && strings.Contains(err.Error(), "secret.") {
			t.Errorf("eve %s leaks a hidden name: %v", call.name, err)
		}
		if err != nil || n != call.want {
			t.Errorf("eve %s: %d %v, want %d", call.name, n, err, call.want)
		}
	}
	if left := secretsLeft(t, s); len(left) != 2 {
		t.Errorf("eve's removals reached hidden names: %v left", left)
	}
	// mallory may remove anything but see only public.*: a regex or
	// prefix reaches only what it may list
	if n, err := mallory.RemoveRegex(ctx, "secret"); err != nil || n != 0 {
		t.Errorf("mallory remove(regex='secret'): %d %v, want 0", n, err)
	}
	if n, err := mallory.RemovePrefix(ctx, "secret."); err != nil || n != 0 {
		t.Errorf("mallory remove(prefix='secret.'): %d %v, want 0", n, err)
	}
	// exact names: the same refusal whether the name exists or not
	_, errE := mallory.Remove(ctx, hidden)
	_, errM := mallory.Remove(ctx, missing)
	sameAnswer(t, "mallory remove(name)", errE, errM, hidden, missing)
	errE = mallory.Register(ctx, hidden, "PYRO:evil@127.0.0.1:6666", true, nil)
	errM = mallory.Register(ctx, missing, "PYRO:evil@127.0.0.1:6666", true, nil)
	sameAnswer(t, "mallory register(safe=True)", errE, errM, hidden, missing)
	errE = mallory.SetMetadata(ctx, hidden, []string{"x"})
	errM = mallory.SetMetadata(ctx, missing, []string{"x"})
	sameAnswer(t, "mallory set_metadata", errE, errM, hidden, missing)
	_, errE = eve.Remove(ctx, hidden)
	_, errM = eve.Remove(ctx, missing)
	sameAnswer(t, "eve remove(name)", errE, errM, hidden, missing)
	_, errE = eve.Lookup(ctx, hidden)
	_, errM = eve.Lookup(ctx, missing)
	sameAnswer(t, "eve lookup", errE, errM, hidden, missing)
	if left := secretsLeft(t, s); strings.Join(left, " ") != "secret.keys secret.payroll.db" {
		t.Errorf("hidden names changed: %v", left)
	}
	// lists of every kind show only what may be listed
	for _, f := range []Filter{{}, {Prefix: "secret"}, {Regex: ".*"}, {MetadataAll: []string{"tag"}}, {MetadataAny: []string{"tag", "x"}}} {
		regs, err := eve.List(ctx, f)
		if err != nil {
			t.Errorf("list %+v: %v", f, err)
		}
		for _, r := range regs {
			if !strings.HasPrefix(r.Name, "public.") && r.Name != ObjectID {
				t.Errorf("list %+v shows %s", f, r.Name)
			}
		}
	}
	// mallory may still register a new name without safe, and a name it
	// may see with safe
	if err := mallory.Register(ctx, "public.c", "PYRO:ok@127.0.0.1:1", true, nil); err != nil {
		t.Errorf("mallory safe register of a visible name: %v", err)
	}
	if err := mallory.Register(ctx, "secret.new", "PYRO:ok@127.0.0.1:1", false, nil); err != nil {
		t.Errorf("mallory register: %v", err)
	}
}

// The regex budget is spent on the names the client may list only, so
// that a refusal cannot tell how many hidden names there are.
func TestRegexBudgetOverVisibleNames(t *testing.T) {
	// the budget pays for \w+x over the visible names (three of 21 and
	// 26 characters or so) but not over 200 hidden ones of 200
	s, eve, _ := startLeakNS(t, WithRegexBudget(200_000))
	for i := 0; i < 200; i++ {
		if err := s.NameServer().register(fmt.Sprintf("secret.%03d.%s", i, strings.Repeat("s", 189)), "PYRO:x@127.0.0.1:1", nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxT(t)
	if _, err := eve.List(ctx, Filter{Regex: `\w+x`}); err != nil {
		t.Errorf("eve's regex list, paid over hidden names too: %v", err)
	}
	if _, err := eve.RemoveRegex(ctx, `\w+x`); err != nil {
		t.Errorf("eve's regex remove, paid over hidden names too: %v", err)
	}
}
