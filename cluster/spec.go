package cluster

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pyrogo/pyro/naming"
)

// Defaults of the nats:// storage (see the package documentation).
const (
	// DefaultTimeout bounds every request to NATS (a write, a bucket
	// lookup) and the wait for the initial contents at Open.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxValue is the largest encoded registration (name, URI and
	// tags) the bucket accepts, in bytes.
	DefaultMaxValue = 64 << 10
	// DefaultMaxBytes is the size limit of a bucket the storage creates,
	// in bytes. It also bounds the memory of every instance's cache.
	DefaultMaxBytes = 256 << 20
	// DefaultPurgeDeletes is the age from which the delete markers of
	// removed names are purged from the bucket.
	DefaultPurgeDeletes = 30 * time.Minute
	// maxReplicas is JetStream's largest useful replica count here.
	maxReplicas = 3
)

// ErrSpec is matched (errors.Is) by the errors of a nats:// storage spec
// that cannot be used as written.
var ErrSpec = errors.New("bad nats storage spec")

// Spec is a parsed nats://HOST:PORT[,HOST:PORT...]/BUCKET[?PARAMS] storage
// spec.
type Spec struct {
	// Servers are the nats://host:port URLs to connect to.
	Servers []string
	// Bucket is the JetStream key-value bucket.
	Bucket string
	// User and Password come from the URL's user:password@ part
	// (percent-decoded). A password on a command line is visible to
	// other local users; prefer Creds.
	User, Password string
	// Creds is a NATS credentials file (creds=FILE).
	Creds string
	// TLSCA, TLSCert and TLSKey are PEM files (tls_ca, tls_cert,
	// tls_key); TLSCA alone verifies the servers, TLSCert and TLSKey add
	// a client certificate. Either makes the connection use TLS.
	TLSCA, TLSCert, TLSKey string
	// Replicas is the replica count of a bucket the storage creates
	// (replicas=N); 0 means min(3, number of servers known).
	Replicas int
	// Timeout bounds every request to NATS (timeout=DURATION).
	Timeout time.Duration
	// MaxValue is the largest encoded registration (max_value=BYTES).
	MaxValue int
	// MaxBytes is the size limit of a bucket the storage creates
	// (max_bytes=BYTES).
	MaxBytes int64
	// PurgeDeletes is the age from which delete markers are purged
	// (purge_deletes=DURATION; 0 never purges them).
	PurgeDeletes time.Duration
}

// Redacted returns the spec as a URL with the password replaced by
// "xxxxx", for messages.
func (s Spec) Redacted() string {
	var b strings.Builder
	b.WriteString("nats://")
	if s.User != "" {
		b.WriteString(url.PathEscape(s.User))
		if s.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteString("@")
	}
	for i, srv := range s.Servers {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strings.TrimPrefix(srv, "nats://"))
	}
	b.WriteString("/" + s.Bucket)
	return b.String()
}

// ParseSpec parses "nats://HOST:PORT[,HOST:PORT...]/BUCKET[?PARAMS]" (the
// leading "nats:" may be left out, as naming.OpenStorage hands over the
// part after the scheme). Parameters: replicas, timeout, max_value,
// max_bytes, purge_deletes, creds, tls_ca, tls_cert, tls_key. A user:password@ before
// the hosts authenticates with a user and password (percent-encoded).
func ParseSpec(spec string) (Spec, error) {
	s := Spec{Timeout: DefaultTimeout, MaxValue: DefaultMaxValue, MaxBytes: DefaultMaxBytes, PurgeDeletes: DefaultPurgeDeletes}
	rest, ok := strings.CutPrefix(strings.TrimPrefix(spec, "nats:"), "//")
	if !ok {
		return s, specErr("nats storage spec must look like nats://HOST:PORT[,HOST:PORT...]/BUCKET")
	}
	rest, query, _ := strings.Cut(rest, "?")
	authority, bucket, ok := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return s, specErr("nats storage spec has no /BUCKET")
	}
	if !validBucket(bucket) {
		return s, specErr(fmt.Sprintf("nats storage bucket %q: use letters, digits, - and _", bucket))
	}
	s.Bucket = bucket
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pass, _ := strings.Cut(authority[:at], ":")
		var err1, err2 error
		s.User, err1 = url.PathUnescape(user)
		s.Password, err2 = url.PathUnescape(pass)
		if err := errors.Join(err1, err2); err != nil || s.User == "" {
			return s, specErr("nats storage spec: bad user:password@ part")
		}
		authority = authority[at+1:]
	}
	for hp := range strings.SplitSeq(authority, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" {
			return s, specErr(fmt.Sprintf("nats storage spec: server %q is not HOST:PORT", hp))
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return s, specErr(fmt.Sprintf("nats storage spec: bad port in %q", hp))
		}
		s.Servers = append(s.Servers, "nats://"+net.JoinHostPort(host, port))
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return s, specErr("nats storage spec: bad parameters: " + err.Error())
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		var err error
		switch k {
		case "replicas":
			s.Replicas, err = strconv.Atoi(v)
			if err == nil && (s.Replicas < 1 || s.Replicas > 5) {
				err = errors.New("must be 1 to 5")
			}
		case "timeout":
			s.Timeout, err = time.ParseDuration(v)
			if err == nil && s.Timeout <= 0 {
				err = errors.New("must be positive")
			}
		case "max_value":
			s.MaxValue, err = strconv.Atoi(v)
			if err == nil && (s.MaxValue < 256 || s.MaxValue > 8<<20) {
				err = errors.New("must be 256 to 8388608")
			}
		case "max_bytes":
			s.MaxBytes, err = strconv.ParseInt(v, 10, 64)
			if err == nil && s.MaxBytes < 1<<16 {
				err = errors.New("must be at least 65536")
			}
		case "purge_deletes":
			s.PurgeDeletes, err = time.ParseDuration(v)
			if err == nil && s.PurgeDeletes < 0 {
				err = errors.New("must not be negative")
			}
		case "creds":
			s.Creds = v
		case "tls_ca":
			s.TLSCA = v
		case "tls_cert":
			s.TLSCert = v
		case "tls_key":
			s.TLSKey = v
		default:
			return s, specErr(fmt.Sprintf("nats storage spec: unknown parameter %q", k))
		}
		if err != nil {
			return s, specErr(fmt.Sprintf("nats storage spec: %s=%s: %v", k, v, err))
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return s, specErr("nats storage spec: tls_cert and tls_key go together")
	}
	return s, nil
}

// validBucket reports whether name is a usable JetStream bucket name.
func validBucket(name string) bool {
	if len(name) > 64 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// specError is a spec error; it matches ErrSpec and naming.ErrStorageSpec.
type specError struct{ msg string }

func specErr(msg string) error { return &specError{msg} }

// Error returns the message.
func (e *specError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrSpec) and errors.Is(err, naming.ErrStorageSpec) true.
func (e *specError) Is(target error) bool {
	return target == ErrSpec || target == naming.ErrStorageSpec
}
