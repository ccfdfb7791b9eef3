package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pyrogo/pyro"
)

// Logging of the commands. Pyro users set PYRO_LOGLEVEL and PYRO_LOGFILE
// (Pyro4's variables, the config items LOGLEVEL and LOGFILE); the flags
// --loglevel and --logformat override them for one run.

const logUsage = `
Logging: --loglevel (or PYRO_LOGLEVEL) is DEBUG, INFO, WARNING, ERROR or
CRITICAL; without either the command logs warnings to stderr. The log
goes to PYRO_LOGFILE ("{stderr}" for stderr); when PYRO_LOGLEVEL is set
and PYRO_LOGFILE is not, to pyro.log in the current directory, as with
Pyro4. --logformat json writes one JSON object per line for log
collectors. PYRO_LOGWIRE=true logs every message at DEBUG.
`

// logFlags holds the logging flags of one command.
type logFlags struct {
	level, format string
}

// addLogFlags defines --loglevel and --logformat.
func addLogFlags(fs *flag.FlagSet) *logFlags {
	lf := &logFlags{}
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(fs.Output(), logUsage)
	}
	fs.StringVar(&lf.level, "loglevel", "", "log `level`: DEBUG, INFO, WARNING, ERROR or CRITICAL (default: PYRO_LOGLEVEL, else WARNING)")
	fs.StringVar(&lf.format, "logformat", "text", "log `format`: text or json (one JSON object per line)")
	return lf
}

// parseLogLevel reads a Python logging level name, in any case.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARNING", "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL", "FATAL":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("invalid log level %q: want DEBUG, INFO, WARNING, ERROR or CRITICAL", s)
}

// logDestination returns where the log goes: "" for stderr, else a file
// name. An explicit LOGFILE wins ("{stderr}" is stderr); without one, a
// level from PYRO_LOGLEVEL means pyro.log, as Pyro4 does.
func logDestination(cfg *pyro.Config) string {
	switch {
	case cfg.LogFile == "{stderr}":
		return ""
	case cfg.LogFile != "":
		return cfg.LogFile
	case cfg.LogLevel != "":
		return "pyro.log"
	}
	return ""
}

// logger builds the command's logger. The level is the first of:
// --loglevel, verbose (the command's -v, when given), PYRO_LOGLEVEL,
// WARNING. The returned function closes a log file. A log file that cannot
// be opened makes the log go to stderr, with a warning, as Pyro4 falls
// back to the console.
func (lf *logFlags) logger(cfg *pyro.Config, verbose *slog.Level, stderr io.Writer) (*slog.Logger, func(), error) {
	level := slog.LevelWarn
	switch {
	case lf.level != "":
		l, err := parseLogLevel(lf.level)
		if err != nil {
			return nil, nil, fmt.Errorf("--loglevel: %w", err)
		}
		level = l
	case verbose != nil:
		level = *verbose
	case cfg.LogLevel != "":
		l, err := parseLogLevel(cfg.LogLevel)
		if err != nil {
			return nil, nil, fmt.Errorf("PYRO_LOGLEVEL: %w", err)
		}
		level = l
	}
	if lf.format != "text" && lf.format != "json" {
		return nil, nil, fmt.Errorf("--logformat: invalid format %q: want text or json", lf.format)
	}
	var w io.Writer = &syncWriter{w: stderr}
	closeLog := func() {}
	var openErr error
	if name := logDestination(cfg); name != "" {
		// never through a symlink, and readable by the owner only: logs
		// name peers and, with LOGWIRE, carry message contents
		f, err := openLogFile(name)
		if err != nil {
			openErr = err
		} else {
			w, closeLog = f, func() { f.Close() }
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if lf.format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	l := slog.New(h)
	if openErr != nil {
		l.Warn("pyro: cannot write the log file, logging to stderr instead", "err", openErr)
	}
	return l, closeLog, nil
}
