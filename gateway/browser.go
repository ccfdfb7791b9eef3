package gateway

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Pyro4's gateway has none of these answers; they refuse what a web page
// in someone's browser makes that browser send.
const (
	textBadHost   = "403 Forbidden - host name not allowed (DNS rebinding protection; allow it with --allow-host)"
	textCrossSite = "403 Forbidden - cross-site request refused (allow its origin with --allow-origin)"
)

// hostAllowed reports whether a request may be served with its Host
// header. A page on evil.example whose name later resolves to 127.0.0.1
// (DNS rebinding) makes the victim's browser send "Host: evil.example" to
// a gateway on loopback; its same-origin requests could call and read
// everything. So a request that arrived on a loopback address must name
// the gateway by an IP literal (which cannot be rebound), localhost
// (*.localhost), this machine's host name, or a name of WithAllowedHosts.
// Requests that arrived on another address are not checked: the gateway
// is reachable by any name there anyway, and a key protects it.
func (g *Gateway) hostAllowed(r *http.Request) bool {
	if g.anyHost {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := a.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			return true
		}
	}
	host := r.Host
	if host == "" { // HTTP/1.0 without Host: no browser sends that
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	_, ok := g.hosts[host]
	return ok
}

// hostSet is the set of host names allowed besides IP literals and
// localhost: this machine's name (full and first label) and extra.
func hostSet(extra []string) (set map[string]struct{}, any bool) {
	set = map[string]struct{}{}
	add := func(h string) {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h != "" {
			set[h] = struct{}{}
		}
	}
	if hn, err := os.Hostname(); err == nil {
		add(hn)
		first, _, _ := strings.Cut(hn, ".")
		add(first)
	}
	for _, h := range extra {
		if h == "*" {
			any = true
		}
		add(h)
	}
	return set, any
}

// crossSite reports whether a call request was sent by a browser for a
// page of another origin: a cross-site <img src>, link or form post makes
// the gateway call the method even though the page cannot read the
// answer. Browsers say where a request comes from in Sec-Fetch-Site
// (anything but same-origin and none, a typed URL or bookmark, is
// refused: another port on localhost is "same-site") or, older ones, in
// Origin (refused when its host is not the request's Host). Programs
// (Pyro4's JavaScript, Python, curl) send neither and are not affected.
// Origins of WithAllowedOrigins pass.
func (g *Gateway) crossSite(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin != "" {
		if _, ok := g.origins[origin]; ok || g.anyOrigin {
			return false
		}
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s != "same-origin" && s != "none"
	}
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host)
}

// originSet is the set of allowed origins ("*": every one).
func originSet(origins []string) (set map[string]struct{}, any bool) {
	set = map[string]struct{}{}
	for _, o := range origins {
		if o == "*" {
			any = true
		}
		set[strings.TrimSuffix(o, "/")] = struct{}{}
	}
	return set, any
}
