package gateway

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// paramList holds a request's parameters in the order they came, each
// name with its values (Python's cgi.parse result).
type paramList struct {
	names []string
	vals  map[string][]string
}

func (p *paramList) add(name, value string) {
	if p.vals == nil {
		p.vals = make(map[string][]string)
	}
	if _, ok := p.vals[name]; !ok {
		p.names = append(p.names, name)
	}
	p.vals[name] = append(p.vals[name], value)
}

func (p *paramList) len() int { return len(p.names) }

// single returns the value of a parameter given exactly once.
func (p *paramList) single(name string) (string, bool) {
	v := p.vals[name]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

func (p *paramList) remove(name string) {
	if _, ok := p.vals[name]; !ok {
		return
	}
	delete(p.vals, name)
	for i, n := range p.names {
		if n == name {
			p.names = append(p.names[:i], p.names[i+1:]...)
			break
		}
	}
}

// kwargs returns the parameters as keyword arguments, as Pyro4's
// singlyfy_parameters makes them: a string for a parameter given once,
// a list of strings otherwise.
// They keep the order in which the parameters came.
func (p *paramList) kwargs() *py.Dict {
	kw := py.NewDict(len(p.names))
	for _, n := range p.names {
		v := p.vals[n]
		if len(v) == 1 {
			kw.SetString(n, v[0])
			continue
		}
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		kw.SetString(n, l)
	}
	return kw
}

// parseParams reads the parameters as Python's cgi.parse does: the query
// string for GET; for POST the form body (urlencoded or multipart) and
// then the query string. A refusal is a status and a text.
func (g *Gateway) parseParams(w http.ResponseWriter, r *http.Request) (*paramList, int, string) {
	ps := &paramList{}
	if r.Method == http.MethodPost {
		ctype, pdict, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body := http.MaxBytesReader(w, r.Body, g.lim.MaxBodyBytes)
		switch ctype {
		case "application/x-www-form-urlencoded":
			data, err := io.ReadAll(body)
			if err != nil {
				status, msg := bodyError(err, g.lim.MaxBodyBytes)
				return nil, status, msg
			}
			if !g.parseQuery(ps, string(data)) {
				return nil, http.StatusBadRequest, textTooManyParams + itoa(int64(g.lim.MaxParams))
			}
		case "multipart/form-data":
			if status, msg := g.parseMultipart(ps, r, body, pdict["boundary"]); status != 0 {
				return nil, status, msg
			}
		}
	}
	if !g.parseQuery(ps, r.URL.RawQuery) {
		return nil, http.StatusBadRequest, textTooManyParams + itoa(int64(g.lim.MaxParams))
	}
	return ps, 0, ""
}

func bodyError(err error, limit int64) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, textTooLarge + itoa(limit) + " bytes"
	}
	return http.StatusBadRequest, "400 Bad Request - cannot read the request body: " + err.Error()
}

// parseMultipart adds the text fields of a multipart/form-data body.
func (g *Gateway) parseMultipart(ps *paramList, r *http.Request, body io.Reader, boundary string) (int, string) {
	if boundary == "" {
		return http.StatusBadRequest, "400 Bad Request - multipart body without boundary"
	}
	r2 := *r
	r2.Body = io.NopCloser(body)
	mr, err := r2.MultipartReader()
	if err != nil {
		return http.StatusBadRequest, "400 Bad Request - " + err.Error()
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return 0, ""
		}
		if err != nil {
			return bodyError(err, g.lim.MaxBodyBytes)
		}
		if part.FileName() != "" {
			return http.StatusBadRequest, "400 Bad Request - file uploads are not supported"
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return bodyError(err, g.lim.MaxBodyBytes)
		}
		if len(data) == 0 { // blank values are dropped, as cgi.parse does
			continue
		}
		if ps.len() >= g.lim.MaxParams {
			return http.StatusBadRequest, textTooManyParams + itoa(int64(g.lim.MaxParams))
		}
		ps.add(part.FormName(), strings.ToValidUTF8(string(data), "\uFFFD"))
	}
}

// parseQuery adds the pairs of a query string as Python's
// urllib.parse.parse_qsl(qs, keep_blank_values=False) does: pairs
// separated by "&", a pair without "=" or with an empty value is
// dropped, "+" is a space, %XX escapes are decoded (invalid ones kept as
// they are) and invalid UTF-8 becomes U+FFFD. It reports false when
// there are more than MaxParams parameters.
func (g *Gateway) parseQuery(ps *paramList, qs string) bool {
	n := 0
	for qs != "" {
		var pair string
		pair, qs, _ = strings.Cut(qs, "&")
		name, value, ok := strings.Cut(pair, "=")
		if !ok || value == "" {
			continue
		}
		n++
		if n+ps.count() > g.lim.MaxParams {
			return false
		}
		ps.add(pyUnquote(name, true), pyUnquote(value, true))
	}
	return true
}

// count returns the number of values held.
func (p *paramList) count() int {
	n := 0
	for _, v := range p.vals {
		n += len(v)
	}
	return n
}

// pyUnquote decodes as Python's unquote(s.replace("+", " "),
// errors="replace") (plus only when plus is set).
func pyUnquote(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") && utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plus:
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		sb.WriteRune(r) // RuneError for each invalid byte, as errors="replace"
		b = b[size:]
	}
	return sb.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
