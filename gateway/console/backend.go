package console

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Backend is what the console shows and calls. The HTTP gateway
// (package gateway) implements it; the console never reaches the name
// server or a daemon except through it, so the gateway's expose regex,
// gateway key and limits apply to every console request.
type Backend interface {
	// Names lists the exposed registrations (names matching the
	// gateway's expose regex), sorted by name, with their URIs and
	// metadata.
	Names(ctx context.Context) ([]Name, error)
	// Describe returns the methods, oneway methods and attributes of the
	// exposed object registered as name, from its daemon's metadata.
	Describe(ctx context.Context, name string) (Description, error)
	// Call calls method of the exposed object registered as name with
	// positional and keyword arguments (values of package py's model) and
	// returns its result as a model value. A remote exception is a
	// *pyro.RemoteError.
	Call(ctx context.Context, name, method string, args []any, kwargs map[string]any) (any, error)
	// Authorize checks a request's gateway key (header
	// X-Pyro-Gateway-Key); nil means the request may proceed, otherwise
	// an error that matches ErrForbidden.
	Authorize(r *http.Request) error
	// Info describes the gateway and its live counters.
	Info() Info
}

// Name is one exposed registration.
type Name struct {
	Name     string   `json:"name"`
	URI      string   `json:"uri"`
	Metadata []string `json:"metadata"`
}

// Description is an object's metadata as its daemon reports it.
type Description struct {
	Methods    []string `json:"methods"`
	Oneway     []string `json:"oneway"`
	Attributes []string `json:"attributes"`
}

// Info is the gateway's description and counters since it started.
type Info struct {
	NameServer string    `json:"nameserver"` // the name server's URI
	Expose     string    `json:"expose"`     // the expose regex ("" = everything)
	Started    time.Time `json:"started"`
	Requests   uint64    `json:"requests"` // HTTP requests answered
	Calls      uint64    `json:"calls"`    // calls made to Pyro objects
	Errors     uint64    `json:"errors"`   // calls that ended in an exception or a failure
	Refused    uint64    `json:"refused"`  // requests refused (403, 4xx limits)
}

// Errors a Backend returns (wrapped, with the reason in the message) so
// that the console answers with the matching HTTP status.
var (
	// ErrForbidden: the name is not exposed or the gateway key is wrong (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such name in the name server (404).
	ErrNotFound = errors.New("not found")
	// ErrBusy: the gateway (or the object's daemon) has too many
	// requests in progress; try again later (503).
	ErrBusy = errors.New("busy")
)
