package pyro

import "github.com/pyrogo/pyro/uri"

// URI is a Pyro object URI (see package uri).
type URI = uri.URI

// ParseURI parses a PYRO:, PYRONAME: or PYROMETA: URI.
func ParseURI(s string) (URI, error) {
	u, err := uri.Parse(s)
	if err != nil {
		return URI{}, wrapError(ErrPyro, err.Error(), err)
	}
	return u, nil
}
