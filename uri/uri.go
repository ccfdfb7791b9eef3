package uri

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pyrogo/pyro/py"
)

// Protocols Pyro knows.
const (
	ProtoPyro     = "PYRO"
	ProtoPyroName = "PYRONAME"
	ProtoPyroMeta = "PYROMETA"
)

// DefaultNSPort is the name server port a PYRONAME/PYROMETA location
// without a port gets (Pyro's NS_PORT default).
const DefaultNSPort = 9090

// URI is a parsed Pyro URI. For PYRONAME and PYROMETA URIs without a
// location, Host and Sockname are empty and Port is 0.
type URI struct {
	Protocol string   // "PYRO", "PYRONAME" or "PYROMETA"
	Object   string   // object id or name; for PYROMETA the tags joined by ","
	Tags     []string // PYROMETA only: the metadata tags, in order of first appearance
	Sockname string   // unix socket path; a Linux abstract name starts with NUL
	Host     string   // host name or address, IPv6 without brackets
	Port     int
}

// ErrInvalid is matched (errors.Is) by every parse error.
var ErrInvalid = errors.New("invalid uri")

// ParseError is a URI that Pyro would refuse; Msg is Pyro's own text.
type ParseError struct {
	URI string
	Msg string
}

func (e *ParseError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ParseError) Is(target error) bool { return target == ErrInvalid }

func perr(s, msg string) error { return &ParseError{URI: s, Msg: msg} }

// Parse parses a URI string with the default name server port for
// PYRONAME/PYROMETA locations.
func Parse(s string) (URI, error) { return ParseWithNSPort(s, DefaultNSPort) }

// ParseWithNSPort parses a URI string; nsPort is the port given to a
// PYRONAME/PYROMETA location that has none (Pyro uses its NS_PORT config).
func ParseWithNSPort(s string, nsPort int) (URI, error) {
	colon := strings.IndexByte(s, ':')
	if colon < 4 || !strings.EqualFold(s[:4], "PYRO") {
		return URI{}, perr(s, "invalid uri")
	}
	for _, c := range s[4:colon] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return URI{}, perr(s, "invalid uri")
		}
	}
	u := URI{Protocol: strings.ToUpper(s[:colon])}
	rest := s[colon+1:]
	// object: one or more non-whitespace characters, the shortest that is
	// followed by "@" and a non-empty location, or else the whole rest
	// (Pyro's regex \S+?(@.+)?$).
	var location string
	hasLocation := false
	end := len(rest)
	for i, r := range rest {
		if unicode.IsSpace(r) {
			return URI{}, perr(s, "invalid uri")
		}
		next := i + utf8.RuneLen(r)
		if r == utf8.RuneError {
			next = i + 1
		}
		if next < len(rest)-1 && rest[next] == '@' {
			end, hasLocation, location = next, true, rest[next+1:]
			break
		}
	}
	u.Object = rest[:end]
	if u.Object == "" {
		return URI{}, perr(s, "invalid uri")
	}
	switch u.Protocol {
	case ProtoPyro:
		if !hasLocation {
			return URI{}, perr(s, "invalid uri")
		}
		if err := u.parseLocation(s, location, -1); err != nil {
			return URI{}, err
		}
	case ProtoPyroName, ProtoPyroMeta:
		if u.Protocol == ProtoPyroMeta {
			seen := map[string]bool{}
			for _, t := range strings.Split(u.Object, ",") {
				t = strings.TrimSpace(t)
				if !seen[t] {
					seen[t] = true
					u.Tags = append(u.Tags, t)
				}
			}
			u.Object = strings.Join(u.Tags, ",")
		}
		if hasLocation {
			if err := u.parseLocation(s, location, nsPort); err != nil {
				return URI{}, err
			}
		}
	default:
		return URI{}, perr(s, "invalid uri (protocol)")
	}
	return u, nil
}

func (u *URI) parseLocation(s, loc string, defaultPort int) error {
	if sock, ok := strings.CutPrefix(loc, "./u:"); ok {
		if sock == "" || strings.IndexByte(sock, ':') >= 0 {
			return perr(s, "invalid uri (location)")
		}
		u.Sockname = sock
		return nil
	}
	var port string
	if strings.HasPrefix(loc, "[") {
		if strings.HasPrefix(loc, "[[") {
			return perr(s, "invalid ipv6 address: enclosed in too many brackets")
		}
		end := 1
		for end < len(loc) && isIPv6Char(loc[end]) {
			end++
		}
		if end == 1 || end >= len(loc) || loc[end] != ']' {
			return perr(s, "invalid ipv6 address: the part between brackets must be a numeric ipv6 address")
		}
		u.Host = loc[1:end]
		// Pyro matches a prefix: ":digits" may follow, anything after is ignored
		after := loc[end+1:]
		if strings.HasPrefix(after, ":") {
			n := 1
			for n < len(after) && after[n] >= '0' && after[n] <= '9' {
				n++
			}
			if n > 1 {
				port = after[1:n]
			}
		}
	} else {
		u.Host, port, _ = strings.Cut(loc, ":")
	}
	if port == "" {
		if defaultPort < 0 {
			return perr(s, "invalid port in uri, port=None")
		}
		u.Port = defaultPort
		return nil
	}
	p, err := parsePyInt(port)
	if err != nil {
		return perr(s, "invalid port in uri, port="+port)
	}
	u.Port = p
	return nil
}

func isIPv6Char(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '%'
}

// parsePyInt accepts what Python's int() accepts for a port: surrounding
// whitespace, an optional sign, decimal digits with single underscores.
func parsePyInt(s string) (int, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "__") || strings.HasSuffix(s, "_") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "_") {
		return 0, errors.New("bad int")
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n > 1<<31 || n < -(1<<31) {
		return 0, errors.New("bad int")
	}
	return n, nil
}

// MustParse is Parse that panics on error, for constants in code and tests.
func MustParse(s string) URI {
	u, err := Parse(s)
	if err != nil {
		panic("uri.MustParse(" + strconv.Quote(s) + "): " + err.Error())
	}
	return u
}

// Location returns "host:port", "[v6]:port", "./u:sockname", or "" when
// the URI has no location.
func (u URI) Location() string {
	switch {
	case u.Host != "":
		if strings.IndexByte(u.Host, ':') >= 0 {
			return "[" + u.Host + "]:" + strconv.Itoa(u.Port)
		}
		return u.Host + ":" + strconv.Itoa(u.Port)
	case u.Sockname != "":
		return "./u:" + u.Sockname
	}
	return ""
}

// String returns the URI in Pyro's text form.
func (u URI) String() string {
	s := u.Protocol + ":" + u.Object
	if loc := u.Location(); loc != "" {
		s += "@" + loc
	}
	return s
}

// Equal compares protocol, object (tags as sets), socket, host and port,
// as Pyro's URI equality does.
func (u URI) Equal(o URI) bool {
	if u.Protocol != o.Protocol || u.Sockname != o.Sockname || u.Host != o.Host || u.Port != o.Port {
		return false
	}
	if u.Protocol != ProtoPyroMeta {
		return u.Object == o.Object
	}
	if len(u.Tags) != len(o.Tags) {
		return false
	}
	set := make(map[string]bool, len(u.Tags))
	for _, t := range u.Tags {
		set[t] = true
	}
	for _, t := range o.Tags {
		if !set[t] {
			return false
		}
	}
	return true
}

// Dial returns the network and address to pass to net.Dial: "tcp" with
// host:port, or "unix" with the socket path (an abstract name's leading
// NUL becomes the "@" that Go's net package expects).
func (u URI) Dial() (network, address string, err error) {
	switch {
	case u.Sockname != "":
		if u.Sockname[0] == 0 {
			return "unix", "@" + u.Sockname[1:], nil
		}
		return "unix", u.Sockname, nil
	case u.Host != "":
		return "tcp", net.JoinHostPort(u.Host, strconv.Itoa(u.Port)), nil
	}
	return "", "", fmt.Errorf("uri %s has no location to connect to", u)
}

// ClassName is the Python class name of a serialized URI.
const ClassName = "Pyro4.core.URI"

// State returns Pyro's state tuple (protocol, object, sockname, host, port)
// with None for absent parts and a set of tags as the PYROMETA object.
func (u URI) State() py.Tuple {
	var object any = u.Object
	if u.Protocol == ProtoPyroMeta {
		tags := py.NewSet(len(u.Tags), false)
		for _, t := range u.Tags {
			_ = tags.Add(t)
		}
		object = tags
	}
	var sock, host, port any
	if u.Sockname != "" {
		sock = u.Sockname
	}
	if u.Host != "" {
		host, port = u.Host, int64(u.Port)
	}
	return py.Tuple{u.Protocol, object, sock, host, port}
}

// PyroClassDict returns {'__class__': 'Pyro4.core.URI', 'state': State()}.
func (u URI) PyroClassDict() *py.Dict {
	d := py.NewDict(2)
	d.SetString("__class__", ClassName)
	d.SetString("state", u.State())
	return d
}

// FromState rebuilds a URI from Pyro's state tuple (or list, as json and
// msgpack deliver it).
func FromState(state any) (URI, error) {
	var items []any
	switch s := state.(type) {
	case py.Tuple:
		items = s
	case []any:
		items = s
	}
	if len(items) != 5 {
		return URI{}, fmt.Errorf("%w: URI state must have 5 items, got %s", ErrInvalid, py.TypeName(state))
	}
	var u URI
	var ok bool
	if u.Protocol, ok = items[0].(string); !ok {
		return URI{}, fmt.Errorf("%w: URI state protocol is %s", ErrInvalid, py.TypeName(items[0]))
	}
	switch o := items[1].(type) {
	case string:
		u.Object = o
		if u.Protocol == ProtoPyroMeta {
			u.Tags = strings.Split(o, ",")
		}
	case *py.Set, []any, py.Tuple:
		var tags []any
		switch o := o.(type) {
		case *py.Set:
			tags = o.Items()
		case []any:
			tags = o
		case py.Tuple:
			tags = o
		}
		for _, t := range tags {
			ts, ok := t.(string)
			if !ok {
				return URI{}, fmt.Errorf("%w: URI tag is %s", ErrInvalid, py.TypeName(t))
			}
			u.Tags = append(u.Tags, ts)
		}
		u.Object = strings.Join(u.Tags, ",")
	default:
		return URI{}, fmt.Errorf("%w: URI state object is %s", ErrInvalid, py.TypeName(items[1]))
	}
	if items[2] != nil {
		if u.Sockname, ok = items[2].(string); !ok {
			return URI{}, fmt.Errorf("%w: URI state sockname is %s", ErrInvalid, py.TypeName(items[2]))
		}
	}
	if items[3] != nil {
		if u.Host, ok = items[3].(string); !ok {
			return URI{}, fmt.Errorf("%w: URI state host is %s", ErrInvalid, py.TypeName(items[3]))
		}
	}
	if items[4] != nil {
		p, ok := items[4].(int64)
		if !ok || p < 0 || p > 65535 {
			return URI{}, fmt.Errorf("%w: URI state port is %s", ErrInvalid, py.Repr(items[4]))
		}
		u.Port = int(p)
	}
	return u, nil
}
