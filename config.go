package pyro

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config holds Pyro's configuration items that apply to pyrogo, under
// their Pyro names in Go spelling. SOCK_NODELAY is not one: Go sets
// TCP_NODELAY on every TCP connection. LOGLEVEL and LOGFILE are Pyro4's
// PYRO_LOGLEVEL and PYRO_LOGFILE variables; the library does not read
// them (it logs only to the *slog.Logger given with WithLogger and
// WithProxyLogger), the pyro commands do. BuiltinConfig returns Pyro4's built-in
// defaults; DefaultConfig applies PYRO_* environment variables on top, as
// importing Pyro4 does. Set fields in code after that; Source tells where
// each value came from.
type Config struct {
	Host                 string   // HOST: interface servers bind to
	NSHost               string   // NS_HOST: where clients look for the name server
	NSPort               int      // NS_PORT
	NSBcPort             int      // NS_BCPORT: broadcast discovery UDP port
	NSBcHost             string   // NS_BCHOST: bind address of the broadcast responder ("" = all)
	NSAutoclean          float64  // NS_AUTOCLEAN: seconds between registration checks; 0 = off
	NATHost              string   // NATHOST: host put in URIs instead of the bind host
	NATPort              int      // NATPORT: port put in URIs (0 = the real port)
	Compression          bool     // COMPRESSION: zlib-compress outgoing payloads
	CommTimeout          float64  // COMMTIMEOUT: seconds for socket operations; 0 = none
	PollTimeout          float64  // POLLTIMEOUT: housekeeping period of servers, seconds
	SockReuse            bool     // SOCK_REUSE
	OnewayThreaded       bool     // ONEWAY_THREADED: run oneway calls concurrently
	DetailedTraceback    bool     // DETAILED_TRACEBACK (Go tracebacks carry no locals)
	AutoProxy            bool     // AUTOPROXY: registered objects in results become proxies
	MaxMessageSize       int      // MAX_MESSAGE_SIZE: payload+annotations bytes; default 64 MiB; 0 = only the protocol's 2 GiB
	MemoryBudget         int      // MEMORY_BUDGET (pyrogo): bytes a daemon holds for all its clients' messages; 0 = 256 MiB, negative = no limit
	WriteTimeout         float64  // WRITE_TIMEOUT (pyrogo): seconds a reply write may go without progress, even with COMMTIMEOUT 0; 0 = 30, negative = none
	BroadcastAddrs       []string // BROADCAST_ADDRS
	PreferIPVersion      int      // PREFER_IP_VERSION: 4, 6 or 0
	Serializer           string   // SERIALIZER: what proxies send
	SerializersAccepted  []string // SERIALIZERS_ACCEPTED: what daemons accept
	LogWire              bool     // LOGWIRE: log every message at debug level (daemons and proxies, to their logger)
	LogLevel             string   // LOGLEVEL (PYRO_LOGLEVEL): the pyro commands' log level: DEBUG, INFO, WARNING, ERROR, CRITICAL
	LogFile              string   // LOGFILE (PYRO_LOGFILE): the pyro commands' log file; "{stderr}" = stderr; "" = pyro.log when LOGLEVEL is set, else stderr
	Metadata             bool     // METADATA: proxies ask for metadata on connect
	RequireExpose        bool     // REQUIRE_EXPOSE (informational: Go exposes exported methods only)
	MaxRetries           int      // MAX_RETRIES: automatic call retries after a lost connection
	IterStreaming        bool     // ITER_STREAMING: daemons stream iterator results
	IterStreamLifetime   float64  // ITER_STREAM_LIFETIME: max stream age in seconds; 0 = none
	IterStreamLinger     float64  // ITER_STREAM_LINGER: keep streams after disconnect, seconds
	MaxConnections       int      // MAXCONNECTIONS: concurrent connections a daemon accepts; 0 = no limit
	ThreadpoolSize       int      // THREADPOOL_SIZE: kept for compatibility; pyrogo is not thread-pool bound
	DottedNames          bool     // DOTTEDNAMES: allow a.b.method traversal (unsafe; off)
	SSL                  bool     // SSL: use TLS
	SSLServerCert        string   // SSL_SERVERCERT
	SSLServerKey         string   // SSL_SERVERKEY
	SSLServerKeyPasswd   string   // SSL_SERVERKEYPASSWD (secret)
	SSLRequireClientCert bool     // SSL_REQUIRECLIENTCERT
	SSLClientCert        string   // SSL_CLIENTCERT
	SSLClientKey         string   // SSL_CLIENTKEY
	SSLClientKeyPasswd   string   // SSL_CLIENTKEYPASSWD (secret)
	SSLCACerts           string   // SSL_CACERTS: CA file or directory
	HMACKey              []byte   // HMAC_KEY (PYRO_HMAC_KEY): shared message-signing key (secret)

	// Resource limits of daemons (pyrogo's own items; see SECURITY.md,
	// "Resource limits"). For the counts, 0 means the built-in default and
	// a negative value means no limit.
	IdleTimeout       float64 // IDLE_TIMEOUT: seconds a connection may sit idle between requests; 0 = no limit
	RequestTimeout    float64 // REQUEST_TIMEOUT: seconds a message may take once its first byte arrived, plus what its bytes earn at REQUEST_MINRATE; 0 = 30, negative = none
	RequestMinRate    int     // REQUEST_MINRATE: bytes/s that earn a large message more time; 0 = 65536, negative = none
	ConnectionCap     int     // CONNECTION_CAP: open connections at which a new one evicts the longest-idle; 0 = from RLIMIT_NOFILE
	IterStreamMax     int     // ITER_STREAM_MAX: open item streams per daemon, lingering ones included; 0 = 4096
	IterStreamMaxConn int     // ITER_STREAM_MAXCONN: open item streams per connection; 0 = 64
	OnewayMax         int     // ONEWAY_MAX: oneway calls running at once per daemon; 0 = 1024
	OnewayMaxConn     int     // ONEWAY_MAXCONN: oneway calls running at once per connection; 0 = 64

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
		PollTimeout: 2.0, SockReuse: true, OnewayThreaded: true, AutoProxy: true,
		BroadcastAddrs: []string{"<broadcast>", "0.0.0.0"}, PreferIPVersion: 4,
		Serializer: "serpent", SerializersAccepted: []string{"serpent", "marshal", "json"},
		Metadata: true, RequireExpose: true, IterStreaming: true, IterStreamLinger: 30.0,
		MaxMessageSize: DefaultMaxMessageSize, MemoryBudget: DefaultMemoryBudget, WriteTimeout: DefaultWriteTimeout,
		ThreadpoolSize: 40,
		RequestTimeout: defaultRequestTimeout, RequestMinRate: defaultRequestMinRate,
		IterStreamMax: defaultIterStreamMax, IterStreamMaxConn: defaultIterStreamMaxConn,
		OnewayMax: defaultOnewayMax, OnewayMaxConn: defaultOnewayMaxConn,
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

// configItem describes one config item: its Pyro name and its field.
type configItem struct {
	name   string // Pyro name, e.g. "NS_PORT"
	field  int    // index in Config
	secret bool
}

var configItems = func() []configItem {
	t := reflect.TypeFor[Config]()
	var items []configItem
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := pyroItemName(f.Name)
		items = append(items, configItem{name: name, field: i,
			secret: strings.HasSuffix(name, "PASSWD") || name == "HMAC_KEY"})
	}
	return items
}()

// pyroItemName maps a field name to Pyro's item name: NSBcPort → NS_BCPORT.
func pyroItemName(field string) string {
	special := map[string]string{
		"NSHost": "NS_HOST", "NSPort": "NS_PORT", "NSBcPort": "NS_BCPORT", "NSBcHost": "NS_BCHOST",
		"NSAutoclean": "NS_AUTOCLEAN", "NATHost": "NATHOST", "NATPort": "NATPORT", "CommTimeout": "COMMTIMEOUT",
		"PollTimeout": "POLLTIMEOUT", "SockReuse": "SOCK_REUSE",
		"OnewayThreaded": "ONEWAY_THREADED", "DetailedTraceback": "DETAILED_TRACEBACK", "AutoProxy": "AUTOPROXY",
		"MaxMessageSize": "MAX_MESSAGE_SIZE", "BroadcastAddrs": "BROADCAST_ADDRS", "PreferIPVersion": "PREFER_IP_VERSION",
		"SerializersAccepted": "SERIALIZERS_ACCEPTED", "LogWire": "LOGWIRE", "LogLevel": "LOGLEVEL", "LogFile": "LOGFILE", "RequireExpose": "REQUIRE_EXPOSE",
		"MaxRetries": "MAX_RETRIES", "IterStreaming": "ITER_STREAMING", "IterStreamLifetime": "ITER_STREAM_LIFETIME",
		"IterStreamLinger": "ITER_STREAM_LINGER", "MaxConnections": "MAXCONNECTIONS", "ThreadpoolSize": "THREADPOOL_SIZE",
		"DottedNames": "DOTTEDNAMES", "SSLServerCert": "SSL_SERVERCERT", "SSLServerKey": "SSL_SERVERKEY",
		"SSLServerKeyPasswd": "SSL_SERVERKEYPASSWD", "SSLRequireClientCert": "SSL_REQUIRECLIENTCERT",
		"SSLClientCert": "SSL_CLIENTCERT", "SSLClientKey": "SSL_CLIENTKEY", "SSLClientKeyPasswd": "SSL_CLIENTKEYPASSWD",
		"SSLCACerts": "SSL_CACERTS", "HMACKey": "HMAC_KEY",
		"MemoryBudget": "MEMORY_BUDGET", "WriteTimeout": "WRITE_TIMEOUT",
		"IdleTimeout": "IDLE_TIMEOUT", "RequestTimeout": "REQUEST_TIMEOUT", "RequestMinRate": "REQUEST_MINRATE",
		"ConnectionCap": "CONNECTION_CAP", "IterStreamMax": "ITER_STREAM_MAX", "IterStreamMaxConn": "ITER_STREAM_MAXCONN",
		"OnewayMax": "ONEWAY_MAX", "OnewayMaxConn": "ONEWAY_MAXCONN",
	}
	if n, ok := special[field]; ok {
		return n
	}
	return strings.ToUpper(field)
}

// ApplyEnv applies PYRO_<ITEM> variables from env ("KEY=value" strings)
// with Pyro's conversion rules: booleans accept 0/off/no/false and
// 1/yes/on/true (any case), numbers must parse, lists split on "," without
// trimming (Pyro's quirk, kept so behaviour matches).
func (c *Config) ApplyEnv(env []string) error {
	vals := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "PYRO_") {
			vals[k[len("PYRO_"):]] = v
		}
	}
	for _, it := range configItems {
		v, ok := vals[it.name]
		if !ok {
			continue
		}
		if err := c.setText(it, v); err != nil {
			return fmt.Errorf("invalid value PYRO_%s=%s: %w", it.name, v, err)
		}
		c.setSource(it.name, SourceEnv)
	}
	return nil
}

func (c *Config) setSource(name string, s Source) {
	if c.sources == nil {
		c.sources = map[string]Source{}
	}
	c.sources[name] = s
}

func (c *Config) setText(it configItem, v string) error {
	f := reflect.ValueOf(c).Elem().Field(it.field)
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Bool:
		switch strings.ToLower(v) {
		case "0", "off", "no", "false":
			f.SetBool(false)
		case "1", "yes", "on", "true":
			f.SetBool(true)
		default:
			return fmt.Errorf("invalid boolean value")
		}
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		f.SetInt(int64(n))
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		f.SetFloat(x)
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes([]byte(v))
			return nil
		}
		f.Set(reflect.ValueOf(strings.Split(v, ",")))
	}
	return nil
}

// Set sets an item by its Pyro name from text, as the environment would,
// and records SourceCode. Setting struct fields directly works too but
// records no source.
func (c *Config) Set(name, value string) error {
	for _, it := range configItems {
		if it.name == name {
			if err := c.setText(it, value); err != nil {
				return fmt.Errorf("config %s=%s: %w", name, value, err)
			}
			c.setSource(name, SourceCode)
			return nil
		}
	}
	return fmt.Errorf("config: unknown item %q", name)
}

// Source returns where the named item's value came from. A value changed
// by assigning the field directly reports SourceCode when it differs from
// both the builtin default and the environment value that was applied.
func (c *Config) Source(name string) Source {
	if s, ok := c.sources[name]; ok {
		return s
	}
	for _, it := range configItems {
		if it.name == name {
			b := reflect.ValueOf(BuiltinConfig()).Elem().Field(it.field)
			v := reflect.ValueOf(c).Elem().Field(it.field)
			if !reflect.DeepEqual(b.Interface(), v.Interface()) {
				return SourceCode
			}
		}
	}
	return SourceBuiltin
}

// ConfigEntry is one item of Config.Entries.
type ConfigEntry struct {
	Name   string // Pyro name
	Value  string // printable value; secrets are masked
	Source Source
}

// Entries lists every item with its value and source, sorted by name.
// Secret values (HMAC key, key passwords) are shown as "<set>" or "".
func (c *Config) Entries() []ConfigEntry {
	out := make([]ConfigEntry, 0, len(configItems))
	for _, it := range configItems {
		f := reflect.ValueOf(c).Elem().Field(it.field)
		var s string
		switch {
		case it.secret:
			if f.Len() > 0 {
				s = "<set>"
			}
		case f.Kind() == reflect.Slice:
			s = strings.Join(f.Interface().([]string), ",")
		default:
			s = fmt.Sprint(f.Interface())
		}
		out = append(out, ConfigEntry{Name: it.name, Value: s, Source: c.Source(it.name)})
	}
	slices.SortFunc(out, func(a, b ConfigEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := *c
	n.BroadcastAddrs = slices.Clone(c.BroadcastAddrs)
	n.SerializersAccepted = slices.Clone(c.SerializersAccepted)
	n.HMACKey = slices.Clone(c.HMACKey)
	n.sources = map[string]Source{}
	for k, v := range c.sources {
		n.sources[k] = v
	}
	return &n
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
