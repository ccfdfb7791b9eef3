package testkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcStatus returns the number of a "Field:  N [kB]" line of
// /proc/PID/status (Linux): bytes for the fields counted in kB (VmRSS,
// VmHWM, ...), the number itself for the others (Threads, ...).
func ProcStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		kb := strings.HasSuffix(v, "kB")
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status: %s: %v", pid, field, err)
		}
		if kb {
			n <<= 10
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// RSS returns the resident memory of a process in bytes (VmRSS).
func RSS(pid int) (int64, error) { return ProcStatus(pid, "VmRSS") }

// PeakRSS returns the kernel's record of the most resident memory a
// process has had, in bytes (VmHWM): it catches peaks that sampling RSS
// misses.
func PeakRSS(pid int) (int64, error) { return ProcStatus(pid, "VmHWM") }

// Threads returns the number of threads of a process.
func Threads(pid int) (int64, error) { return ProcStatus(pid, "Threads") }

// CPUSeconds returns the user and system CPU time a process has used, in
// seconds (from /proc/PID/stat).
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// the fields after the ")" that ends the command name; utime and
	// stime are the 14th and 15th of the line
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

// MiB is n bytes in MiB, for messages.
func MiB(n int64) float64 { return float64(n) / (1 << 20) }
