package pyre

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyrogo/pyro/internal/pytest"
	"github.com/pyrogo/pyro/internal/testbound"
)

// compilePattern compiles under the default limits.
func compilePattern(p string) (*Pattern, error) { return Compile(p, Limits{}) }

// rePatterns are Python patterns of the supported subset, checked
// against Python's own re.match on rePatternNames.
var rePatterns = []string{
	``, `a`, `a.b`, `a\.b`, `^a`, `a$`, `b`, `.*b`, `a.*`, `a|b`, `(a|b)c`, `a+`, `a*b`, `a?b`, `a{2}`,
	`a{1,2}b`, `a{,2}b`, `a{2,}`, `a{}`, `a{x}`, `a{1,x}`, `[ab]+$`, `[^a]`, `[a-c]+\.`, `[]a]`, `[^]a]`,
	`[a\-z]`, `[a-]`, `[\d]`, `\d+`, `\D`, `\w+$`, `\W`, `\s`, `\S+`, `[\s\d]+`, `[\w.]+$`, `\bfoo`,
	`foo\b`, `\Aa`, `a\Z`, `(?i)A.B`, `(?i:A)b`, `(?s)a.b`, `(?m)^b`, `(?m)a$`, `(?x) a \. b # c`,
	`(?a)\w+$`, `(?a)[\W]`, `(?:ab)+`, `(?P<n>a)b`, `(?#comment)a`, `a*?b`, `a+?$`, `a??b`, `\x61`,
	`\u00e9`, `\U0001F600`, `\0`, `\101`, `[\101-\103]+`, `\t`, `[\b]`, `é+`, `\é`, `[é-ü]`, `\.`, `\*`,
	`\-`, `\ `, `test\.\w+`, `Pyro\.`, `.*\.echo.*`, `[[:alpha:]]`, `a{3}|b`, `(a)(b)?`, `(a|)`,
	`\d{1,3}\.`, `x*`, `(?i)é`, `\S+\s\S+`,
	// Python refuses these too
	`(`, `)`, `[a`, `*a`, `a**`, `{1}`, `a{2,1}`, `\q`, `\z`, `$*`, `(?P<1>a)`, `(?P<n>a)(?P<n>b)`,
	`a(?i)b`, `(?L)a`, `(?a-u:a)`, `\x6`, `[z-a]`, `[\d-z]`, `(?<n>a)`, `(?Q)`,
}

var rePatternNames = []string{
	"", "a", "ab", "aab", "aaab", "b", "ba", "a.b", "axb", "a\nb", "a\n", "A.b", "AB", "foo", "foobar", "foo bar",
	"a-z", "]", "123", "١٢٣", "é", "éé", "ü", "\u00a0", "\t", "x y", "😀", "test.echo1", "Pyro.NameServer",
	"[", ":", "aaa", "abc", "c", "\b", "a a",
}

func TestRegexMatchesPython(t *testing.T) {
	var pairs [][2]string
	for _, p := range rePatterns {
		for _, n := range rePatternNames {
			pairs = append(pairs, [2]string{p, n})
		}
	}
	in, _ := json.Marshal(pairs)
	res := pytest.Cmd{Args: []string{"testdata/rematch.py"}, Stdin: string(in)}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("rematch.py failed: %s", res.Stderr)
	}
	var want []any
	if err := json.Unmarshal([]byte(res.Stdout), &want); err != nil {
		t.Fatalf("rematch.py output: %v\n%s", err, res.Stdout)
	}
	if len(want) != len(pairs) {
		t.Fatalf("%d results for %d pairs", len(want), len(pairs))
	}
	compiled := map[string]bool{}
	for i, pr := range pairs {
		re, err := compilePattern(pr[0])
		switch w := want[i].(type) {
		case string:
			if err == nil {
				t.Errorf("pattern %q: Python refuses it (%s), Go accepted it", pr[0], w)
			}
		case bool:
			if err != nil {
				if !compiled[pr[0]] {
					t.Errorf("pattern %q: Go refused it: %v", pr[0], err)
				}
				compiled[pr[0]] = true
				continue
			}
			if got := re.MatchString(pr[1]); got != w {
				t.Errorf("re.match(%q, %q): Python %v, Go %v", pr[0], pr[1], w, got)
			}
		}
	}
}

// Python error messages for patterns we detect ourselves.
func TestRegexErrorMessages(t *testing.T) {
	for pat, want := range map[string]string{
		`(a`:    "missing ), unterminated subpattern at position 0",
		`$*`:    "nothing to repeat at position 1",
		`{1}`:   "nothing to repeat at position 0",
		`a**`:   "multiple repeat at position 2",
		`\q`:    `bad escape \q at position 0`,
		`[a`:    "unterminated character set at position 0",
		`a)`:    "unbalanced parenthesis at position 1",
		`a(?i)`: "global flags not at the start of the expression at position 1",
		`[z-a]`: "bad character range z-a at position 1",
	} {
		_, err := compilePattern(pat)
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", pat, err, want)
		}
	}
}

// Constructs RE2 cannot run are refused, not approximated.
func TestRegexUnsupported(t *testing.T) {
	for _, pat := range []string{`(a)\1`, `(?P<x>a)(?P=x)`, `a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`,
		`(a)?(?(1)b|c)`, `(?>a)`, `a*+`, `a++`, `\N{DIGIT ONE}`, `[\W]`, strings.Repeat("a", DefaultMaxLen+1)} {
		if _, err := compilePattern(pat); err == nil {
			t.Errorf("%q: accepted", pat)
		}
	}
}

// A pattern that backtracking engines take exponential time on finishes
// at once.
func TestRegexCatastrophic(t *testing.T) {
	re, err := compilePattern(`(a+)+$`)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("a", 100000) + "!"
	start := time.Now()
	if re.MatchString(name) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > testbound.Scale(2*time.Second) {
		t.Fatalf("took %v", d)
	}
}
