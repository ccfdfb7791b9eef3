package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/pyrogo/pyro/codec"
	"github.com/pyrogo/pyro/py"
)

// api wraps an endpoint: the method check, the cross-site check and
// Backend.Authorize run before it, in that order, for every request.
func (h *handler) api(method string, f func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "this endpoint takes "+method+" only")
			return
		}
		// Browsers say where a request comes from. A page of another
		// origin (another port on localhost is "same-site", so only
		// "same-origin" counts) must not use the API even for reads.
		if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
			writeError(w, http.StatusForbidden, "Forbidden", "cross-origin request refused (Sec-Fetch-Site: "+s+")")
			return
		}
		if err := h.b.Authorize(r); err != nil {
			writeError(w, http.StatusForbidden, "Forbidden", err.Error())
			return
		}
		f(w, r)
	}
}

// info answers GET info: the Backend's Info.
func (h *handler) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.b.Info())
}

// namesReply is the answer of GET names.
type namesReply struct {
	Names []Name `json:"names"`
}

// names answers GET names: the exposed registrations.
func (h *handler) names(w http.ResponseWriter, r *http.Request) {
	ns, err := h.b.Names(r.Context())
	if err != nil {
		h.backendError(w, r, err)
		return
	}
	if ns == nil {
		ns = []Name{}
	}
	for i := range ns {
		if ns[i].Metadata == nil {
			ns[i].Metadata = []string{}
		}
	}
	writeJSON(w, http.StatusOK, namesReply{Names: ns})
}

// describe answers GET describe?name=N.
func (h *handler) describe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vs := q["name"]
	if len(q) != 1 || len(vs) != 1 {
		writeError(w, http.StatusBadRequest, "BadRequest", "describe takes exactly one parameter, name")
		return
	}
	if err := h.checkName("name", vs[0]); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	d, err := h.b.Describe(r.Context(), vs[0])
	if err != nil {
		h.backendError(w, r, err)
		return
	}
	for _, p := range []*[]string{&d.Methods, &d.Oneway, &d.Attributes} {
		if *p == nil {
			*p = []string{}
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// callRequest is the body of POST call; the arguments are Python
// literals, parsed (never evaluated) by package serpent.
type callRequest struct {
	Name   string            `json:"name"`
	Method string            `json:"method"`
	Args   []string          `json:"args"`
	Kwargs map[string]string `json:"kwargs"`
}

// callReply is the answer of POST call that reached the object: its
// result in Pyro's JSON form (what Pyro4's gateway sends) and as a
// Python repr, or the exception it raised.
type callReply struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	// ResultError says why Result is missing: a value the json
	// serializer cannot carry (bytes, sets of some kinds, NaN).
	ResultError string     `json:"resultError,omitempty"`
	Repr        string     `json:"repr,omitempty"`
	Error       *errorBody `json:"error,omitempty"`
}

// call answers POST call.
func (h *handler) call(w http.ResponseWriter, r *http.Request) {
	req, status, err := h.readCall(w, r)
	if err != nil {
		writeError(w, status, statusClass(status), err.Error())
		return
	}
	args, kwargs, err := h.parseArgs(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	res, err := h.b.Call(r.Context(), req.Name, req.Method, args, kwargs)
	if err != nil {
		h.backendError(w, r, err)
		return
	}
	rep := callReply{OK: true, Repr: py.Repr(res)}
	if b, err := codec.Default(codec.IDJSON).Marshal(res); err != nil {
		rep.ResultError = "the result has no JSON form: " + err.Error()
	} else if !json.Valid(b) {
		rep.ResultError = "the result's Pyro JSON form is not standard JSON (NaN or infinity): " + string(truncate(b, 200))
	} else {
		rep.Result = b
	}
	writeJSON(w, http.StatusOK, rep)
}

// readCall checks the request's media type and size and decodes its body
// strictly: one JSON object, known fields only, nothing after it.
func (h *handler) readCall(w http.ResponseWriter, r *http.Request) (*callRequest, int, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, http.StatusUnsupportedMediaType, errors.New("the body must be application/json")
	}
	if r.ContentLength > h.lim.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the limit of %d", r.ContentLength, h.lim.MaxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.lim.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over the limit of %d bytes", h.lim.MaxBody)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req callRequest
	if err := dec.Decode(&req); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("bad JSON body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, http.StatusBadRequest, errors.New("bad JSON body: data after the object")
	}
	if err := h.checkName("name", req.Name); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if err := h.checkName("method", req.Method); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if n := len(req.Args) + len(req.Kwargs); n > h.lim.MaxArgs {
		return nil, http.StatusBadRequest, fmt.Errorf("%d arguments, more than the limit of %d", n, h.lim.MaxArgs)
	}
	return &req, 0, nil
}

// checkName refuses an empty or oversized name or method.
func (h *handler) checkName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is missing", what)
	case len(s) > h.lim.MaxName:
		return fmt.Errorf("%s of %d bytes is longer than the limit of %d", what, len(s), h.lim.MaxName)
	}
	return nil
}

// truncate shortens b for a message.
func truncate(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], "..."...)
}

// statusClass is the error class the console reports for its own 4xx.
func statusClass(status int) string {
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}
