package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/naming"
)

// Issue 8: names and URIs that anyone may register cannot forge lines of
// "pyro nsc" output or reach the terminal as escape sequences: they are
// printed as Python's repr() when they are not plain printable text.
// Ordinary names print unchanged (TestNSCMatrix compares them with
// pyro4-nsc byte for byte).
func TestNSCEscapesHostileNames(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0")
	p, err := pyro.NewProxy(r.uri.String(), pyro.BuiltinConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := naming.NewClient(p)
	ctx := context.Background()
	hostile := map[string]string{ // name → how nsc must print it
		"evil\nPyro.NameServer --> PYRO:Pyro.NameServer@10.6.6.6:9090": `'evil\nPyro.NameServer --> PYRO:Pyro.NameServer@10.6.6.6:9090'`,
		"red\x1b[31mALERT\x1b[0m":                                      `'red\x1b[31mALERT\x1b[0m'`,
		"over\rwrite":                                                  `'over\rwrite'`,
		"bidi\u202etxt.exe":                                            `'bidi\u202etxt.exe'`,
		"line\u2028sep":                                                `'line\u2028sep'`,
		`back\slash`:                                                   `'back\\slash'`,
		"plain.name-ü_1":                                               "plain.name-ü_1",
	}
	for name := range hostile {
		if err := c.Register(ctx, name, "PYRO:obj@127.0.0.1:1", false, nil); err != nil {
			t.Fatalf("register %q: %v", name, err)
		}
	}
	loc := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(r.uri.Port)}
	for _, cmd := range [][]string{{"list"}, {"listmatching", ".*"}} {
		res := nscRun(t, cleanEnviron(), "", append(loc, cmd...)...)
		lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
		// START, the name server, 7 names (with metadata lines for the
		// name server), END
		if len(lines) != 1+2+len(hostile)+1 {
			t.Errorf("%v printed %d lines:\n%s", cmd, len(lines), res.stdout)
		}
		for _, want := range hostile {
			if !strings.Contains(res.stdout, "\n"+want+" --> PYRO:obj@127.0.0.1:1\n") {
				t.Errorf("%v: no line for %s:\n%s", cmd, want, res.stdout)
			}
		}
		if strings.ContainsAny(res.stdout, "\x1b\r\u202e\u2028") {
			t.Errorf("%v printed control characters: %q", cmd, res.stdout)
		}
	}
	// a hostile URI, looked up
	if err := c.Register(ctx, "weird", "PYRO:obj\x1b]0;pwned\x07@127.0.0.1:1", false, nil); err != nil {
		t.Fatal(err)
	}
	res := nscRun(t, cleanEnviron(), "", append(loc, "lookup", "weird")...)
	if want := "'PYRO:obj\\x1b]0;pwned\\x07@127.0.0.1:1'\n"; res.stdout != want {
		t.Errorf("lookup: %q, want %q", res.stdout, want)
	}
}

// "pyro ns --regex-budget" bounds the work of one regex query.
func TestNSRegexBudgetFlag(t *testing.T) {
	r := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0", "--regex-budget", "2000")
	loc := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(r.uri.Port)}
	res := nscRun(t, cleanEnviron(), "", append(loc, "listmatching", `(?:\w?){100}x`)...)
	if !strings.Contains(res.stdout, "Error: NamingError - regex too costly") {
		t.Errorf("a query over a budget of 2000 steps: %q", res.stdout)
	}
	res = nscRun(t, cleanEnviron(), "", append(loc, "listmatching", `Pyro\.`)...)
	if !strings.Contains(res.stdout, "Pyro.NameServer --> ") {
		t.Errorf("a cheap query: %q", res.stdout)
	}
}
