package mobile

import (
	"sort"
	"strconv"
	"strings"
)

// wasiModule is the WASI preview 1 host module.
const wasiModule = "wasi_snapshot_preview1"

// allowedWASI are the WASI functions a module may import. What they do in
// the sandbox (no filesystem is mounted, no socket exists, arguments and
// environment are empty):
//
//   - args_get, args_sizes_get, environ_get, environ_sizes_get: nothing to
//     read;
//   - clock_res_get, clock_time_get, poll_oneoff: the fake clock unless
//     WithSystemClock (poll_oneoff only sleeps; it has no descriptor to
//     wait for but stdin, which is empty);
//   - random_get: deterministic unless WithRandom;
//   - fd_write: stdout and stderr go to a small buffer per call (its tail
//     is shown in error messages); fd_read reads an empty stdin;
//     fd_close, fd_fdstat_get, fd_fdstat_set_flags, fd_prestat_get,
//     fd_prestat_dir_name see
//     only those three descriptors and no preopened directory;
//   - proc_exit ends the instance; sched_yield returns.
//
// This is the set a Go program built with GOOS=wasip1 needs (its runtime
// imports sched_yield, proc_exit, args_*, environ_*, clock_time_get,
// fd_write, random_get and poll_oneoff; its os package adds fd_close,
// fd_fdstat_get, fd_fdstat_set_flags and the fd_prestat pair). Everything else — path_open and
// the other path_* and fd_* file functions, sock_*, and any other module
// — is refused at load, naming the import.
var allowedWASI = map[string]bool{
	"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
	"clock_res_get": true, "clock_time_get": true, "poll_oneoff": true, "random_get": true,
	"fd_write": true, "fd_read": true, "fd_close": true, "fd_fdstat_get": true,
	"fd_fdstat_set_flags": true, "fd_prestat_get": true, "fd_prestat_dir_name": true, "proc_exit": true,
	"sched_yield": true,
}

// checkImports refuses a module that imports anything the sandbox does
// not provide: functions outside allowedWASI (or, later, a granted host
// module), and any imported memory, table or global.
func checkImports(info *Info, hostFuncs map[string]map[string]bool) error {
	var bad []string
	for _, im := range info.Imports {
		ok := false
		if im.Kind == KindFunc {
			if im.Module == wasiModule {
				ok = allowedWASI[im.Name]
			} else {
				ok = hostFuncs[im.Module][im.Name]
			}
		}
		if !ok {
			bad = append(bad, im.String())
		}
	}
	if len(bad) == 0 {
		return nil
	}
	more := ""
	if len(bad) > 5 {
		more = " and " + strconv.Itoa(len(bad)-5) + " more"
		bad = bad[:5]
	}
	return refusedf("module imports %s%s, which the sandbox does not provide (allowed: %s)",
		strings.Join(bad, ", "), more, allowedList())
}

func allowedList() string {
	names := make([]string, 0, len(allowedWASI))
	for n := range allowedWASI {
		names = append(names, n)
	}
	sort.Strings(names)
	return wasiModule + " " + strings.Join(names, " ")
}
