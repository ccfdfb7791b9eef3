package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// InstrumentHandler wraps h so that the registry counts its requests
// (pyro_http_requests_total by method and status code), times them
// (pyro_http_request_duration_seconds) and shows those in progress
// (pyro_http_requests_in_flight), under handler="<name>". Only the
// standard HTTP methods label the series (any other is "other"), and
// status codes are three digits, so no client can make new series; name
// is the caller's. The wrapped ResponseWriter unwraps (Unwrap) to the
// original, so http.ResponseController keeps working.
func (r *Registry) InstrumentHandler(name string, h http.Handler) http.Handler {
	inFlight := r.httpInFlight.WithLabelValues(name)
	durations := map[string]prometheus.Observer{}
	for _, m := range httpMethods {
		durations[m] = r.httpDur.WithLabelValues(name, m)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			inFlight.Dec()
			m := methodLabel(req.Method)
			durations[m].Observe(time.Since(start).Seconds())
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			r.httpReqs.WithLabelValues(name, m, codeLabel(code)).Inc()
		}()
		h.ServeHTTP(sw, req)
	})
}

// httpMethods are the methods that label the HTTP series, Other last.
var httpMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace, Other}

func methodLabel(m string) string {
	for _, k := range httpMethods[:len(httpMethods)-1] {
		if m == k {
			return m
		}
	}
	return Other
}

func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return Other
	}
	return strconv.Itoa(code)
}

// statusWriter records the status code a handler sends.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 { // 1xx are interim responses
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Flush lets handlers that stream flush through the wrapper.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap is for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
