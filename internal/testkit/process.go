package testkit

import (
	"bufio"
	"io"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Process is a child process started by StartProcess.
type Process struct {
	// Cmd is the command; its Process field is set.
	Cmd *exec.Cmd
	// Ready is what the line that announced the process said: the first
	// group of StartProcess's pattern (typically a URI), or the whole
	// line when the pattern has no group.
	Ready string
	// Output holds what the process wrote to stderr, and to stdout apart
	// from the ready line, interleaved.
	Output *Buffer
	// Exited is closed when the process has ended and been waited for.
	Exited <-chan struct{}

	stop sync.Once
}

// Prefix returns a pattern for StartProcess that matches a line starting
// with s and captures the rest of it.
func Prefix(s string) *regexp.Regexp { return regexp.MustCompile("^" + regexp.QuoteMeta(s) + "(.*)$") }

// StartProcess starts cmd (its Stdout and Stderr must be unset) and waits
// until it prints a stdout line that ready matches. It fails the test
// when the process ends first or prints no such line within Bound. The
// process is killed and waited for in t.Cleanup, and its output is logged
// if the test failed.
func StartProcess(t testing.TB, cmd *exec.Cmd, ready *regexp.Regexp) *Process {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p := &Process{Cmd: cmd, Output: &Buffer{}, Exited: exited}
	cmd.Stderr = p.Output
	if err := cmd.Start(); err != nil {
		t.Fatalf("testkit: starting %v: %v", cmd.Args, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		announced := false
		for sc.Scan() {
			line := sc.Text()
			if !announced {
				if m := ready.FindStringSubmatch(line); m != nil {
					announced = true
					found <- m[min(1, len(m)-1)]
					continue
				}
			}
			p.Output.Write([]byte(line + "\n"))
		}
		_, _ = io.Copy(io.Discard, stdout) // past an overlong line
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%v output:\n%s", cmd.Args, p.Output)
		}
	})
	timer := time.NewTimer(Bound())
	defer timer.Stop()
	select {
	case p.Ready = <-found:
		return p
	case <-exited:
		select {
		case p.Ready = <-found:
			return p
		default:
		}
		t.Fatalf("%v ended before printing a line matching %q (%v):\n%s", cmd.Args, ready, cmd.ProcessState, p.Output)
	case <-timer.C:
		p.Stop()
		t.Fatalf("%v printed no line matching %q within %v:\n%s", cmd.Args, ready, Bound(), p.Output)
	}
	return nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Stop kills the process and waits until it has ended; it is safe to
// call more than once, and after the process ended by itself.
func (p *Process) Stop() {
	p.stop.Do(func() { _ = p.Cmd.Process.Kill() })
	<-p.Exited
}
