package naming

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/uri"
)

// Broadcast discovery (Pyro4's BroadcastServer and the broadcast step of
// locateNS): a client sends the 9 bytes "GET_NSURI" to UDP port NS_BCPORT
// and the name server answers with its URI, ISO-8859-1 encoded.
const (
	discoverRequest = "GET_NSURI"
	// maxDatagram is what either side reads of a datagram, as Pyro does;
	// longer datagrams are truncated and so never equal the request.
	maxDatagram = 100
)

// Reply limits of the responder: a request is 9 bytes and an answer about
// 40-60, so a responder could amplify traffic sent with a forged source
// address. It answers at most responderPerPeer requests per second from
// one IP address and responderTotal per second overall; the rest are
// dropped silently (clients retry three times anyway).
const (
	responderPerPeer = 10
	responderTotal   = 100
	responderPeers   = 4096 // peers tracked per second; beyond, only the total applies
)

// Responder answers broadcast discovery requests for one name server.
// It runs one goroutine, from StartResponder until Close.
type Responder struct {
	conn  *net.UDPConn
	nsURI pyro.URI
	log   *slog.Logger

	policy atomic.Pointer[Policy] // nil: answer everyone

	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	// rate limiting, used by the serving goroutine only
	window  int64 // unix second of the counters
	total   int
	perPeer map[string]int
}

// StartResponder binds a UDP socket to host:port ("" host = all IPv4
// interfaces; port 0 = any) with SO_BROADCAST and, if reuse is set,
// SO_REUSEADDR, and answers every datagram that is exactly "GET_NSURI"
// with nsURI (the name server's internal, non-NAT URI). If nsURI's host
// is an unspecified address (0.0.0.0), the answer carries the local
// address that routes to the requester instead. logger may be nil.
//
// The responder applies no loopback rule itself (Server does, as pyro4-ns
// does); answers are rate-limited per peer and in total.
func StartResponder(host string, port int, nsURI pyro.URI, reuse bool, logger *slog.Logger) (*Responder, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	network := "udp4"
	if strings.Contains(host, ":") {
		network = "udp6"
	}
	if host == "" {
		host = "0.0.0.0"
	}
	lc := net.ListenConfig{Control: udpControl(reuse)}
	pc, err := lc.ListenPacket(context.Background(), network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, pyro.NewError(pyro.ErrCommunication, "cannot bind broadcast responder: "+err.Error())
	}
	r := &Responder{conn: pc.(*net.UDPConn), nsURI: nsURI, log: logger, done: make(chan struct{}), perPeer: map[string]int{}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.serve()
	}()
	return r, nil
}

// SetPolicy makes the responder answer only the requesters whose host
// p's broadcast rules allow (nil: everyone). Server does this for
// WithPolicy.
func (r *Responder) SetPolicy(p *Policy) { r.policy.Store(p) }

// Addr returns the responder's bound address.
func (r *Responder) Addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

// Location returns the responder's address the way pyro4-ns prints it:
// "0.0.0.0:9091" (the bind host and port, IPv6 in brackets).
func (r *Responder) Location() string {
	a := r.Addr()
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// Close stops the responder and waits for its goroutine.
func (r *Responder) Close() error {
	r.once.Do(func() {
		close(r.done)
		r.conn.Close()
	})
	r.wg.Wait()
	return nil
}

func (r *Responder) serve() {
	buf := make([]byte, maxDatagram)
	for {
		n, peer, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			select {
			case <-r.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Debug("naming: broadcast responder read failed", "err", err)
			select {
			case <-r.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if n != len(discoverRequest) || string(buf[:n]) != discoverRequest {
			continue
		}
		if !r.allow(peer.IP, time.Now()) {
			r.log.Debug("naming: broadcast request dropped by rate limit", "peer", peer)
			continue
		}
		if p := r.policy.Load(); p != nil && !p.AllowsBroadcast(peer.IP) {
			r.log.Info("naming: broadcast request ignored by policy", "peer", peer)
			continue
		}
		reply, ok := r.answerFor(peer)
		if !ok {
			continue
		}
		r.log.Debug("naming: answering broadcast request", "peer", peer, "uri", string(reply))
		if _, err := r.conn.WriteToUDP(reply, peer); err != nil {
			r.log.Debug("naming: broadcast reply failed", "peer", peer, "err", err)
		}
	}
}

// allow applies the rate limits.
func (r *Responder) allow(ip net.IP, now time.Time) bool {
	if sec := now.Unix(); sec != r.window {
		r.window, r.total = sec, 0
		clear(r.perPeer)
	}
	if r.total >= responderTotal {
		return false
	}
	key := string(ip.To16())
	if c, ok := r.perPeer[key]; ok {
		if c >= responderPerPeer {
			return false
		}
		r.perPeer[key] = c + 1
	} else if len(r.perPeer) < responderPeers {
		r.perPeer[key] = 1
	}
	r.total++
	return true
}

// answerFor builds the reply for a peer: the URI in ISO-8859-1.
func (r *Responder) answerFor(peer *net.UDPAddr) ([]byte, bool) {
	u := r.nsURI
	if ip := net.ParseIP(u.Host); ip != nil && ip.IsUnspecified() {
		if c, err := net.DialUDP("udp", nil, peer); err == nil {
			u.Host = c.LocalAddr().(*net.UDPAddr).IP.String()
			c.Close()
		}
	}
	return latin1(u.String())
}

// latin1 encodes s in ISO-8859-1; ok is false if s has other characters.
func latin1(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, c := range s {
		if c > 0xff {
			return nil, false
		}
		out = append(out, byte(c))
	}
	return out, true
}

// discoverRound is how long Discover waits for an answer after each of
// its three rounds of requests (Pyro: 0.7 s).
var discoverRound = 700 * time.Millisecond

// Bounds on the answers one discovery considers: a spoofer may send many
// different ones. Beyond them, answers are ignored.
const (
	maxAnswers        = 32 // distinct answers in all
	maxAnswersPerPeer = 4  // distinct answers from one source address
)

// Discover finds a name server by broadcast, as locateNS does: it sends
// "GET_NSURI" to each address of cfg.BroadcastAddrs ("<broadcast>" means
// 255.255.255.255) on UDP port port (0 = cfg.NSBcPort), waits 0.7 s for an
// answer, and tries three times. The first answer that is a PYRO URI is
// returned.
//
// Answers are not authenticated: anyone who can send a datagram to the
// client (any local user, anyone on the network segment) can answer
// first with the URI of a name server of their own. Discover guarantees
// nothing about the name server it returns; Locate checks the answers
// when the client has an HMAC key, TLS settings or a passphrase.
func Discover(ctx context.Context, cfg *pyro.Config, port int) (pyro.URI, error) {
	var found pyro.URI
	err := discover(ctx, cfg, port, func(u pyro.URI) bool {
		found = u
		return true
	})
	return found, err
}

// discover runs broadcast discovery and calls found, in the order they
// arrive, with each distinct answer that is a PYRO URI (within
// maxAnswers and maxAnswersPerPeer), until found returns true (then it
// returns nil), ctx ends, or the three rounds are over.
func discover(ctx context.Context, cfg *pyro.Config, port int, found func(pyro.URI) bool) error {
	if cfg == nil {
		cfg = pyro.BuiltinConfig()
	}
	if port == 0 {
		port = cfg.NSBcPort
	}
	lc := net.ListenConfig{Control: udpControl(cfg.SockReuse)}
	pc, err := lc.ListenPacket(ctx, "udp4", "0.0.0.0:0")
	if err != nil {
		return pyro.NewError(pyro.ErrCommunication, "broadcast discovery: "+err.Error())
	}
	conn := pc.(*net.UDPConn)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var targets []*net.UDPAddr
	for _, a := range cfg.BroadcastAddrs {
		a = strings.TrimSpace(a)
		switch a {
		case "<broadcast>":
			a = "255.255.255.255"
		case "":
			a = "0.0.0.0"
		}
		ua, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		targets = append(targets, ua)
	}
	seen := map[string]bool{}
	perPeer := map[string]int{}
	buf := make([]byte, maxDatagram)
	for round := 0; round < 3 && ctx.Err() == nil; round++ {
		for _, t := range targets {
			// like Pyro, ignore addresses that cannot be sent to here
			_, _ = conn.WriteToUDP([]byte(discoverRequest), t)
		}
		deadline := time.Now().Add(discoverRound)
		if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
			deadline = dl
		}
		conn.SetReadDeadline(deadline)
		if ctx.Err() != nil {
			break
		}
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				break // timeout: next round
			}
			s := make([]rune, n)
			for i, b := range buf[:n] {
				s[i] = rune(b)
			}
			u, err := uri.Parse(string(s))
			if err != nil || u.Protocol != uri.ProtoPyro {
				continue
			}
			key, peer := u.String(), from.IP.String()
			if seen[key] || len(seen) >= maxAnswers || perPeer[peer] >= maxAnswersPerPeer {
				continue
			}
			seen[key] = true
			perPeer[peer]++
			if found(u) {
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return &pyro.Error{Class: pyro.ErrNaming, Msg: "broadcast discovery: " + err.Error(), Err: err}
	}
	return pyro.NewError(pyro.ErrNaming, "broadcast discovery: no name server answered")
}
