package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, nil)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	code, out, errs := runMain()
	if code != exitUsage || out != "" {
		t.Errorf("no args: code %d, stdout %q", code, out)
	}
	for _, c := range commands {
		if !strings.Contains(errs, "\t"+c.name+" ") {
			t.Errorf("usage does not list %s:\n%s", c.name, errs)
		}
	}
	for _, help := range []string{"help", "-h", "--help"} {
		code, out, _ := runMain(help)
		if code != exitOK || !strings.Contains(out, "pyro <command> [arguments]") {
			t.Errorf("%s: code %d, stdout %q", help, code, out)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, errs := runMain("frobnicate")
	if code != exitUsage || !strings.Contains(errs, `pyro frobnicate: unknown command`) {
		t.Errorf("code %d stderr %q", code, errs)
	}
	if code, _, _ := runMain("help", "frobnicate"); code != exitUsage {
		t.Errorf("help frobnicate: code %d", code)
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands {
		code, out, _ := runMain("help", c.name)
		if code != exitOK || !strings.Contains(out, "usage: pyro "+c.name) {
			t.Errorf("help %s: code %d, stdout %q", c.name, code, out)
		}
		code, _, errs := runMain(c.name, "-h")
		if code != exitOK || !strings.Contains(errs, "usage: pyro "+c.name) {
			t.Errorf("%s -h: code %d, stderr %q", c.name, code, errs)
		}
		if code, _, _ := runMain(c.name, "--no-such-flag"); code != exitUsage {
			t.Errorf("%s --no-such-flag: code %d", c.name, code)
		}
	}
}
