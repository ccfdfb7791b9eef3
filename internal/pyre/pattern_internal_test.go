package pyre

import (
	"errors"
	"regexp/syntax"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Patterns over a limit are refused with an *Error that says which; the
// same pattern passes under a larger limit.
func TestCompileLimits(t *testing.T) {
	for _, tc := range []struct {
		pat  string
		want string
	}{
		{strings.Repeat("a", DefaultMaxLen+1), "pattern too long (2049 characters, at most 2048)"},
		{strings.Repeat(`(?:\w?){1000}`, 20), "pattern too complex (about"},                             // refused on the estimate
		{strings.Repeat(`(?:\w?){1000}`, 6), "pattern too complex (12003 instructions, at most 10000)"}, // on the program
		{strings.Repeat(`[a-z]{1,1000}`, 6), "pattern too complex"},
		{`(?:[a-z]{1,1000}){1,5}x`, "invalid repeat count"}, // Go's own bound on nested repeats
		{`é{1001}`, "invalid repeat count"},
	} {
		_, err := Compile(tc.pat, Limits{})
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: %v, want %q", tc.pat, err, tc.want)
		}
	}
	// the attack: a 2048-character pattern of 1000-fold repeats
	attack := strings.Repeat(`(?:\w?){1000}`, 2048/13)
	if _, err := Compile(attack, Limits{}); err == nil {
		t.Errorf("the %d-character attack pattern compiled", len(attack))
	}
	p, err := Compile(`(?:\w?){1000}(?:\w?){1000}`, Limits{MaxProgram: 20000})
	if err != nil {
		t.Fatalf("under a larger limit: %v", err)
	}
	if p.Size() < 4000 || p.Size() > 20000 {
		t.Errorf("size %d", p.Size())
	}
	if _, err := Compile(`(?:\w?){1000}(?:\w?){1000}`, Limits{MaxProgram: 1000}); err == nil {
		t.Error("accepted over a smaller limit")
	}
	if _, err := Compile(strings.Repeat("a", 100), Limits{MaxLen: 99}); err == nil {
		t.Error("accepted over MaxLen")
	}
}

// treeSize is close to the real program size, so that the early refusal
// (at four times the limit) never refuses a pattern the real size allows.
func TestTreeSizeEstimate(t *testing.T) {
	for _, pat := range []string{`a`, `abc`, `a|bc|def`, `(a)(b)?`, `a*b+c?`, `a{2,4}`, `a{3,}`, `(?:a{2}){100}`,
		`(?:\w?){1000}`, `[a-z]{1,1000}`, `(?:ab|cd){10,20}`, `(?i)abc{5}`, `(?:(?:a|b)*c){50}`, `x(?:y{2,}){3,9}`} {
		expr := `\A(?:` + pat + `)`
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := syntax.Compile(tree.Simplify())
		if err != nil {
			t.Fatal(err)
		}
		est, real := treeSize(tree), int64(len(prog.Inst))
		if est > 4*real || real > 4*est {
			t.Errorf("%q: estimate %d, real %d", pat, est, real)
		}
	}
}

// The budget pays for each match before it runs, refuses what it cannot
// pay, and stays empty after a refusal.
func TestBudget(t *testing.T) {
	p, err := Compile(`[a-z]+\.x`, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cost := p.Cost("abc.x")
	if want := (int64(p.Size()) + stepOverhead) * 6; cost != want {
		t.Fatalf("cost %d, want %d", cost, want)
	}
	b := NewBudget(2 * cost)
	for i := 0; i < 2; i++ {
		if ok, err := b.Match(p, "abc.x"); !ok || err != nil {
			t.Fatalf("match %d: %v %v", i, ok, err)
		}
	}
	if b.Left() != 0 {
		t.Errorf("left %d", b.Left())
	}
	if _, err := b.Match(p, "abc.x"); !errors.Is(err, ErrBudget) {
		t.Errorf("overspent: %v", err)
	}
	// a literal prefix makes non-matching strings cheap
	lp, err := Compile(`lab\.printer\d+`, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("z", 10000)
	if c := lp.Cost(long); c != int64(len("lab.printer"))+1 {
		t.Errorf("cost of a string without the prefix: %d", c)
	}
	if c := lp.Cost("lab.printer" + long); c < 10000*int64(lp.Size()) {
		t.Errorf("cost of a string with the prefix: %d", c)
	}
	if !lp.MatchString("lab.printer7x") || lp.MatchString("lab.printerx") || lp.MatchString(long) {
		t.Error("prefix pattern matches wrongly")
	}
	// a case-insensitive pattern has no literal prefix to rely on
	ip, _ := Compile(`(?i)LAB\.`, Limits{})
	if !ip.MatchString("lab.x") || ip.Cost("zzz") < int64(ip.Size()) {
		t.Errorf("case-insensitive: match %v cost %d", ip.MatchString("lab.x"), ip.Cost("zzz"))
	}
}
