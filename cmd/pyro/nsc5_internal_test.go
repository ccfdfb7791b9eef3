package main

import (
	"strconv"
	"testing"

	"github.com/pyrogo/pyro/py"
)

// Pyro5 nsc's yplookup_all and yplookup_any commands, against "pyro ns"
// (spoken to over Pyro4's protocol, so the tags come back as lists, as
// Pyro4's list sends them): Pyro5 nsc's titles and selection, and the
// missing-argument exit.
func TestNSCYplookup(t *testing.T) {
	ns := startNSCmd(t, cleanEnviron(), "-n", "127.0.0.1", "-p", "0").uri
	loc := []string{"-n", ns.Host, "-p", strconv.Itoa(ns.Port)}
	run := func(stdin string, args ...string) nscResult {
		return nscRun(t, cleanEnviron(), stdin, append(append([]string{}, loc...), args...)...)
	}
	for _, c := range [][]string{
		{"register", "a.b", "PYRO:x@127.0.0.1:1"},
		{"register", "other.c", "PYRO:y@127.0.0.1:2"},
		{"setmeta", "a.b", "t1", "t2"},
		{"setmeta", "other.c", "t1"},
	} {
		if r := run("", c...); r.Exit != 0 {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
		exit int
	}{
		{[]string{"yplookup_all", "t1", "t2"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_any", "t2", "nothing"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_any", "t1"}, "--------START LIST  - searched by metadata\na.b --> PYRO:x@127.0.0.1:1\n    metadata: ['t1', 't2']\nother.c --> PYRO:y@127.0.0.1:2\n    metadata: ['t1']\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_all", "nothing"}, "--------START LIST  - searched by metadata\n--------END LIST  - searched by metadata\n", 0},
		{[]string{"yplookup_all"}, "", 1},
	} {
		r := run("", tc.args...)
		if r.Stdout != tc.want || r.Exit != tc.exit {
			t.Errorf("nsc %v: exit %d\n%s\nwant exit %d\n%s", tc.args, r.Exit, r.Stdout, tc.exit, tc.want)
		}
	}
}

// Metadata is printed as Python's nsc prints what it got: a set as a set
// (Pyro5's name server), a list as a list (Pyro4's), the tags always
// through repr.
func TestNSCMetaRepr(t *testing.T) {
	for _, tc := range []struct {
		raw  any
		tags []string
		want string
	}{
		{py.SetOf("red"), []string{"red"}, "{'red'}"},
		{py.SetOf("b", "a"), []string{"b", "a"}, "{'b', 'a'}"},
		{[]any{"red"}, []string{"red"}, "['red']"},
		{nil, []string{"red"}, "['red']"},
		{py.SetOf("x\x1b[2J"), []string{"x\x1b[2J"}, `{'x\x1b[2J'}`},
	} {
		if got := metaRepr(tc.raw, tc.tags); got != tc.want {
			t.Errorf("metaRepr(%v) = %s, want %s", tc.raw, got, tc.want)
		}
	}
}
