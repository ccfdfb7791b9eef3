package sqlitefile

import (
	"net/url"
	"path/filepath"
	"strings"
)

// DSN is the modernc SQLite driver's data source name for the file at
// the absolute path abs: a file: URI (so that any character in the path
// is allowed) whose every connection runs the pragmas (e.g.
// "busy_timeout(2000)"), with write transactions taking their lock when
// they begin (_txlock=immediate).
func DSN(abs string, pragmas ...string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	q := url.Values{}
	for _, pr := range pragmas {
		q.Add("_pragma", pr)
	}
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}
