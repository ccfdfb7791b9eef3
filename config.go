package pyro

import (
	"maps"
	"os"
	"slices"
	"time"
)

// Config holds Pyro's configuration items that pyrogo gives a meaning,
// under their Pyro names in Go spelling; each field's `pyro` tag is the
// item's Pyro name (the PYRO_<ITEM> environment variable, the name
// Config.Set and Config.Entries use). Durations are time.Duration; in the
// environment, Config.Set and Config.Entries they are seconds, written as
// Pyro writes them ("0.5", "2.0").
//
// BuiltinConfig returns Pyro4's built-in defaults; DefaultConfig applies
// PYRO_* environment variables on top, as importing Pyro4 does. Set fields
// in code after that; Source tells where each value came from. NewDaemon
// and NewProxy check the config with Validate and keep a copy of it, so a
// config may be changed and reused after it was given to them.
//
// Pyro4 items pyrogo has no use for are not fields, and their PYRO_*
// variables are ignored: SOCK_NODELAY (Go sets TCP_NODELAY on every TCP
// connection), SERVERTYPE, THREADPOOL_SIZE and THREADPOOL_SIZE_MIN (a
// daemon serves every connection in its own goroutine; MAXCONNECTIONS and
// CONNECTION_CAP bound them), REQUIRE_EXPOSE (only exported methods are
// ever exposed), FLAME_ENABLED, PICKLE_PROTOCOL_VERSION,
// DILL_PROTOCOL_VERSION, JSON_MODULE and USE_MSG_WAITALL. LOGLEVEL and
// LOGFILE are Pyro4's PYRO_LOGLEVEL and PYRO_LOGFILE variables: the
// library does not read them (it logs only to the *slog.Logger given with
// WithLogger), the pyro commands do.
type Config struct {
	Host                 string        `pyro:"HOST"`                       // interface servers bind to
	NSHost               string        `pyro:"NS_HOST"`                    // where clients look for the name server: one host, or a list "h1,h2:9095,[::1]" (naming.ParseNSHosts)
	NSPort               int           `pyro:"NS_PORT"`                    // name server port
	NSBcPort             int           `pyro:"NS_BCPORT"`                  // broadcast discovery UDP port
	NSBcHost             string        `pyro:"NS_BCHOST"`                  // bind address of the broadcast responder ("" = all)
	NSAutoclean          time.Duration `pyro:"NS_AUTOCLEAN"`               // period of the name server's registration checks; 0 = off, else at least 3 s
	NATHost              string        `pyro:"NATHOST"`                    // host put in URIs instead of the bind host
	NATPort              int           `pyro:"NATPORT"`                    // port put in URIs (0 = the real port)
	Compression          bool          `pyro:"COMPRESSION"`                // zlib-compress outgoing payloads
	CommTimeout          time.Duration `pyro:"COMMTIMEOUT"`                // socket operations; 0 = none
	PollTimeout          time.Duration `pyro:"POLLTIMEOUT"`                // period of a daemon's housekeeping (expiry of item streams); 0 = 2 s
	SockReuse            bool          `pyro:"SOCK_REUSE"`                 // SO_REUSEADDR on the UDP sockets of broadcast discovery (TCP listeners always have it in Go)
	OnewayThreaded       bool          `pyro:"ONEWAY_THREADED"`            // run oneway calls concurrently
	DetailedTraceback    bool          `pyro:"DETAILED_TRACEBACK"`         // a panicking method's remote traceback carries its Go stack (Go tracebacks carry no locals)
	AutoProxy            bool          `pyro:"AUTOPROXY"`                  // registered objects in results become proxies
	MaxMessageSize       int           `pyro:"MAX_MESSAGE_SIZE"`           // payload+annotations bytes; default 64 MiB; 0 = only the protocol's 2 GiB
	MemoryBudget         int           `pyro:"MEMORY_BUDGET"`              // (pyrogo) bytes a daemon holds for all its clients' messages; 0 = 256 MiB, negative = no limit
	WriteTimeout         time.Duration `pyro:"WRITE_TIMEOUT"`              // (pyrogo) time a reply write may go without progress, even with COMMTIMEOUT 0; 0 = 30 s, negative = none
	BroadcastAddrs       []string      `pyro:"BROADCAST_ADDRS"`            // where broadcast discovery sends its requests
	PreferIPVersion      int           `pyro:"PREFER_IP_VERSION"`          // 4, 6 or 0; 6 makes naming.Locate skip broadcast discovery (IPv4 only)
	Serializer           string        `pyro:"SERIALIZER"`                 // what proxies send
	Protocol             string        `pyro:"PROTOCOL"`                   // (pyrogo) the wire protocol proxies speak: "4" (48), "5" (502) or "auto" (detect per address)
	SerializersAccepted  []string      `pyro:"SERIALIZERS_ACCEPTED"`       // what daemons accept
	LogWire              bool          `pyro:"LOGWIRE"`                    // log every message at debug level (daemons and proxies, to their logger)
	LogLevel             string        `pyro:"LOGLEVEL"`                   // the pyro commands' log level: DEBUG, INFO, WARNING, ERROR, CRITICAL
	LogFile              string        `pyro:"LOGFILE"`                    // the pyro commands' log file; "{stderr}" = stderr; "" = pyro.log when LOGLEVEL is set, else stderr
	Metadata             bool          `pyro:"METADATA"`                   // proxies ask for metadata on connect
	MaxRetries           int           `pyro:"MAX_RETRIES"`                // automatic call retries after a lost connection
	IterStreaming        bool          `pyro:"ITER_STREAMING"`             // daemons stream iterator results
	IterStreamLifetime   time.Duration `pyro:"ITER_STREAM_LIFETIME"`       // max stream age; 0 = none
	IterStreamLinger     time.Duration `pyro:"ITER_STREAM_LINGER"`         // keep streams after disconnect for this long
	MaxConnections       int           `pyro:"MAXCONNECTIONS"`             // concurrent connections a daemon accepts; 0 = no limit
	DottedNames          bool          `pyro:"DOTTEDNAMES"`                // allow a.b.method traversal (unsafe; off)
	SSL                  bool          `pyro:"SSL"`                        // use TLS
	SSLServerCert        string        `pyro:"SSL_SERVERCERT"`             // server certificate file (PEM)
	SSLServerKey         string        `pyro:"SSL_SERVERKEY"`              // its key file (PEM; "" = in the certificate file)
	SSLServerKeyPasswd   string        `pyro:"SSL_SERVERKEYPASSWD,secret"` // password of an encrypted server key
	SSLRequireClientCert bool          `pyro:"SSL_REQUIRECLIENTCERT"`      // mutual TLS: daemons demand client certificates
	SSLClientCert        string        `pyro:"SSL_CLIENTCERT"`             // client certificate file (PEM)
	SSLClientKey         string        `pyro:"SSL_CLIENTKEY"`              // its key file (PEM; "" = in the certificate file)
	SSLClientKeyPasswd   string        `pyro:"SSL_CLIENTKEYPASSWD,secret"` // password of an encrypted client key
	SSLCACerts           string        `pyro:"SSL_CACERTS"`                // CA file or directory
	HMACKey              []byte        `pyro:"HMAC_KEY,secret"`            // shared message-signing key (PYRO_HMAC_KEY)

	// Resource limits of daemons (pyrogo's own items; see SECURITY.md,
	// "Resource limits"). For the counts, 0 means the built-in default and
	// a negative value means no limit.
	IdleTimeout       time.Duration `pyro:"IDLE_TIMEOUT"`        // time a connection may sit idle between requests; 0 or negative = no limit
	RequestTimeout    time.Duration `pyro:"REQUEST_TIMEOUT"`     // time a message may take once its first byte arrived, plus what its bytes earn at REQUEST_MINRATE; 0 = 30 s, negative = none
	RequestMinRate    int           `pyro:"REQUEST_MINRATE"`     // bytes/s that earn a large message more time; 0 = 65536, negative = none
	ConnectionCap     int           `pyro:"CONNECTION_CAP"`      // open connections at which a new one evicts the longest-idle; 0 = from RLIMIT_NOFILE
	IterStreamMax     int           `pyro:"ITER_STREAM_MAX"`     // open item streams per daemon, lingering ones included; 0 = 4096
	IterStreamMaxConn int           `pyro:"ITER_STREAM_MAXCONN"` // open item streams per connection; 0 = 64
	OnewayMax         int           `pyro:"ONEWAY_MAX"`          // oneway calls running at once per daemon; 0 = 1024
	OnewayMaxConn     int           `pyro:"ONEWAY_MAXCONN"`      // oneway calls running at once per connection; 0 = 64

	// The event service (package events; Pyro3's PYRO_ES_* items).
	ESQueueSize    int           `pyro:"ES_QUEUESIZE"`    // events queued per subscriber; 0 = 1000
	ESBlockQueue   bool          `pyro:"ES_BLOCKQUEUE"`   // a full queue makes the publisher wait (up to ES_BLOCKTIMEOUT); false = drop the event for that subscriber
	ESBlockTimeout time.Duration `pyro:"ES_BLOCKTIMEOUT"` // (pyrogo) how long a publisher waits for a full queue before the event is dropped for it; 0 = 10 s

	sources map[string]Source
}

// Source tells where a config value came from.
type Source int

// Config value sources.
const (
	SourceBuiltin Source = iota // Pyro's built-in default
	SourceEnv                   // a PYRO_* environment variable
	SourceCode                  // set by the program (Config.Set)
)

func (s Source) String() string {
	switch s {
	case SourceEnv:
		return "environment"
	case SourceCode:
		return "code"
	}
	return "builtin"
}

// BuiltinConfig returns Pyro4 4.82's built-in defaults, ignoring the
// environment — the safe choice when the environment cannot be trusted.
// pyrogo departs from Pyro where Pyro's default is unsafe or does not
// apply: MaxConnections is 0 (Go daemons are not bound to a 40-thread
// pool; set a limit explicitly); MaxMessageSize is 64 MiB, not unlimited;
// and the pyrogo items MemoryBudget (256 MiB) and WriteTimeout (30 s)
// bound what clients can make a daemon hold (see SECURITY.md, "Message
// size and memory").
func BuiltinConfig() *Config {
	return &Config{
		Host: "localhost", NSHost: "localhost", NSPort: 9090, NSBcPort: 9091,
		PollTimeout: 2 * time.Second, SockReuse: true, OnewayThreaded: true, AutoProxy: true,
		BroadcastAddrs: []string{"<broadcast>", "0.0.0.0"}, PreferIPVersion: 4,
		Serializer: "serpent", Protocol: ProtocolAuto, SerializersAccepted: []string{"serpent", "marshal", "json"},
		Metadata: true, IterStreaming: true, IterStreamLinger: 30 * time.Second,
		MaxMessageSize: DefaultMaxMessageSize, MemoryBudget: DefaultMemoryBudget, WriteTimeout: DefaultWriteTimeout,
		RequestTimeout: defaultRequestTimeout, RequestMinRate: defaultRequestMinRate,
		IterStreamMax: defaultIterStreamMax, IterStreamMaxConn: defaultIterStreamMaxConn,
		OnewayMax: defaultOnewayMax, OnewayMaxConn: defaultOnewayMaxConn,
		ESQueueSize: 1000, ESBlockQueue: true, ESBlockTimeout: 10 * time.Second,
		sources: map[string]Source{},
	}
}

// DefaultConfig returns the built-in defaults overridden by PYRO_*
// environment variables, like importing Pyro4 does. It fails on a value
// that does not parse (Pyro aborts the import in that case).
func DefaultConfig() (*Config, error) {
	c := BuiltinConfig()
	return c, c.ApplyEnv(os.Environ())
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := *c
	n.BroadcastAddrs = slices.Clone(c.BroadcastAddrs)
	n.SerializersAccepted = slices.Clone(c.SerializersAccepted)
	n.HMACKey = slices.Clone(c.HMACKey)
	n.sources = maps.Clone(c.sources)
	if n.sources == nil {
		n.sources = map[string]Source{}
	}
	return &n
}
