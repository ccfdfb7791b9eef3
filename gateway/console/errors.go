package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/pyrogo/pyro"
)

// errorBody is the error of an answer with "ok": false.
type errorBody struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

type errorReply struct {
	OK    bool      `json:"ok"`
	Error errorBody `json:"error"`
}

// writeError answers status with {"ok":false,"error":{...}}.
func writeError(w http.ResponseWriter, status int, class, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, errorReply{Error: errorBody{Class: class, Message: msg}})
}

// writeJSON answers status with v as JSON (HTML-escaped, so that no
// string in it can be read as markup even by a careless client).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only the console's own types get here: a bug
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error":{"class":"InternalServerError","message":"encoding the answer failed"}}`)
	}
	b = append(b, '\n')
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// backendError answers a Backend's error with the status it stands for:
//
//	matches ErrForbidden                 403
//	matches ErrNotFound                  404
//	matches ErrBusy                      503
//	*pyro.RemoteError (the object raised) 200, "ok": false, the exception
//	a timeout (deadline, TimeoutError)   504, class Pyro4.errors.TimeoutError
//	other pyro errors (connection, ...)  502, class Pyro4.errors.X
//	anything else                        500
//
// A remote exception is a successful use of the API: the call reached the
// object and this is its outcome, so it is 200 like a result, and the
// status codes stay for what went wrong between the browser and the
// object.
func (h *handler) backendError(w http.ResponseWriter, r *http.Request, err error) {
	if re, ok := errors.AsType[*pyro.RemoteError](err); ok {
		writeJSON(w, http.StatusOK, callReply{Error: &errorBody{Class: re.Class(), Message: re.Message()}})
		return
	}
	switch {
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, "Forbidden", err.Error())
		return
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "NotFound", err.Error())
		return
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", err.Error())
		return
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pyro.ErrTimeout):
		writeError(w, http.StatusGatewayTimeout, pyro.ErrTimeout.PythonName(), err.Error())
		return
	}
	if pe, ok := errors.AsType[*pyro.Error](err); ok && pe.Class != nil {
		writeError(w, http.StatusBadGateway, pe.Class.PythonName(), err.Error())
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelWarn, "console: backend failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	writeError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
}
