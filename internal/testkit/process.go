package testkit

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Process is a child process started by StartProcess.
type Process struct {
	// Cmd is the command; its Process field is set.
	Cmd *exec.Cmd
	// Ready is the rest of the line that announced the process, after
	// the prefix StartProcess waited for (typically a URI).
	Ready string
	// Stderr holds what the process wrote to stderr, and the stdout lines
	// after the ready line.
	Stderr *Buffer
	// Exited is closed when the process has ended and been waited for.
	Exited <-chan struct{}
}

// StartProcess starts cmd (its Stdout and Stderr must be unset) and waits
// until it prints a stdout line that starts with ready. It fails the test
// when the process ends first or prints no such line within Bound. The
// process is killed and waited for in t.Cleanup, and its stderr is logged
// if the test failed.
func StartProcess(t testing.TB, cmd *exec.Cmd, ready string) *Process {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p := &Process{Cmd: cmd, Stderr: &Buffer{}, Exited: exited}
	cmd.Stderr = p.Stderr
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
			if rest, ok := strings.CutPrefix(line, ready); ok && !announced {
				announced = true
				found <- rest
				continue
			}
			p.Stderr.Write([]byte(line + "\n"))
		}
		_, _ = io.Copy(io.Discard, stdout) // past an overlong line
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%v output:\n%s", cmd.Args, p.Stderr)
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
		t.Fatalf("%v ended before printing %q (%v):\n%s", cmd.Args, ready, cmd.ProcessState, p.Stderr)
	case <-timer.C:
		t.Fatalf("%v printed no %q within %v:\n%s", cmd.Args, ready, Bound(), p.Stderr)
	}
	return nil
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }
