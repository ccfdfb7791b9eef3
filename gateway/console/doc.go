// Package console is pyrogo's web console: a page, served from the
// binary, that lists the names a gateway exposes with their metadata,
// shows each object's methods and attributes, calls a method with
// literal arguments, and shows the gateway's live counters. It talks to
// the name server and to daemons only through a Backend (the HTTP
// gateway of package gateway, which mounts New's handler at "/pyro/"
// and under "/console/"; `pyro httpgateway` and `pyro ns --http` serve it).
//
// # The page
//
// GET /pyro/ is the page; /console/console.js and /console/console.css are
// its script and style sheet. They are plain files embedded in the binary
// (no build step, nothing from any other origin) and are the only files
// there are: a request path is looked up in a fixed table, never joined to
// a directory, and a path that is not already clean ("..", "//", ".") is
// 404. Every response carries
//
//	Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';
//	  img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none';
//	  frame-ancestors 'none'
//	X-Content-Type-Options: nosniff
//	X-Frame-Options: DENY
//	Referrer-Policy: no-referrer
//
// so no inline script runs, nothing loads from elsewhere and no other site
// can frame the page. The script puts every string it gets from the
// server into the page as text (textContent), never as markup: names and
// metadata are chosen by whoever may register in the name server.
//
// The page keeps the gateway key the user types in sessionStorage (this
// tab only) and sends it as the X-Pyro-Gateway-Key header of every API
// request; the page itself needs no key.
//
// # The JSON API
//
// Every API request passes, in this order, a method check (405), a
// cross-origin check (a browser's Sec-Fetch-Site header other than
// "same-origin" or "none" is 403: another port on localhost counts as
// "same-site" but is another origin) and Backend.Authorize (403), before
// anything reaches the Backend. Answers are JSON with Cache-Control:
// no-store; errors are
//
//	{"ok": false, "error": {"class": "BadRequest", "message": "..."}}
//
// with a 4xx or 5xx status. The endpoints:
//
//	GET /console/api/info               Info: name server URI, expose regex, start time, counters
//	GET /console/api/names              {"names": [{"name": N, "uri": U, "metadata": [...]}, ...]}
//	GET /console/api/describe?name=N    {"methods": [...], "oneway": [...], "attributes": [...]}
//	POST /console/api/call              see below
//
// A call's body must be Content-Type application/json (415 otherwise; a
// cross-origin page cannot send that without a CORS preflight, which the
// console never grants, so no other site can make a call), at most
// Limits.MaxBody bytes (413), and exactly one object with known fields:
//
//	{"name": N, "method": M, "args": ["<literal>", ...], "kwargs": {"k": "<literal>"}}
//
// Each argument is a Python literal (what ast.literal_eval accepts: None,
// True, numbers, strings, bytes, tuples, lists, dicts, sets), parsed by
// package serpent into model values and never evaluated; its size and
// nesting are bounded by Limits.Literal. A malformed body or literal is
// 400 and reaches no Backend. The answer is
//
//	{"ok": true, "result": <the result in Pyro's JSON form>, "repr": "<its Python repr>"}
//
// where result is what Pyro4's gateway would send for it (codec's json
// serializer). A result that form cannot carry (NaN, infinity, bytes) has
// "resultError" (why) instead of "result"; repr is always there.
//
// Backend errors map to statuses with errors.Is and errors.As:
//
//	ErrForbidden                        403
//	ErrNotFound                         404
//	*pyro.RemoteError                   200 {"ok": false, "error": {"class": "builtins.ValueError", "message": ...}}
//	a timeout (deadline, TimeoutError)  504, class "Pyro4.errors.TimeoutError"
//	another *pyro.Error                 502, class "Pyro4.errors.X"
//	anything else                       500
//
// A remote exception is 200 because the call did reach the object and the
// exception is its outcome, exactly as a result is; the 4xx and 5xx
// statuses are kept for what went wrong on the way. The remote traceback
// is not sent to the browser.
package console
