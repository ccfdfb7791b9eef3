package events

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pyre"
)

// Bounds on what one call may send (the rest are options).
const (
	// MaxSubjectsPerCall is the most subjects or patterns one publish,
	// subscribe, subscribeMatch or unsubscribe may name.
	MaxSubjectsPerCall = 1000
	// MaxSubjectLen is the longest subject, in characters.
	MaxSubjectLen = 1024
	// MaxPatternLen and MaxPatternProgram are the name server's regex
	// limits (internal/pyre's defaults).
	MaxPatternLen     = 2048
	MaxPatternProgram = 10000
)

// Defaults of the options.
const (
	DefaultMaxSubscribers  = 1024
	DefaultMaxSubjects     = 1024 // exact subscriptions per subscriber
	DefaultMaxPatternsEach = 16   // pattern subscriptions per subscriber
	DefaultMaxPatterns     = 1024 // pattern subscriptions in all
	// DefaultMaxSubscriptions bounds the exact subscriptions of all
	// subscribers together (see WithMaxSubscriptions).
	DefaultMaxSubscriptions = 65536
	// DefaultMaxPatternProgram bounds the compiled size of all subscribed
	// patterns together, in instructions (see WithMaxPatternProgram).
	DefaultMaxPatternProgram = 196608
	DefaultMaxFailures       = 5
	DefaultRetryBase         = 100 * time.Millisecond
	DefaultRetryMax          = 5 * time.Second
	// DefaultQueueBytes bounds the bytes queued for one subscriber and
	// DefaultTotalBytes those queued for all (see WithQueueBytes).
	DefaultQueueBytes = 16 << 20
	DefaultTotalBytes = 256 << 20
	// DefaultSendBytes bounds the bytes of the events being delivered at
	// once (see WithSendBytes).
	DefaultSendBytes    = 64 << 20
	defaultBlockTimeout = 10 * time.Second
	defaultQueueSize    = 1000
)

// Option configures NewService.
type Option func(*options)

type options struct {
	log                 *slog.Logger
	queueSize           int
	queueBytes          int64
	totalBytes          int64
	sendBytes           int64
	block               bool
	blockTimeout        time.Duration
	maxSubscribers      int
	maxSubjects         int
	maxSubscriptions    int
	maxPatternProgram   int
	maxPatternsEach     int
	maxPatterns         int
	maxFailures         int
	retryBase, retryMax time.Duration
	proxyOpts           []pyro.ProxyOption
	store               Store
	regexBudget         int64
	policy              *Policy
	// lookup resolves subscriber host names (thirdparty.go)
	lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithQueue overrides the config's ES_QUEUESIZE, ES_BLOCKQUEUE and
// ES_BLOCKTIMEOUT: size events per subscriber, whether a full queue makes
// the publisher wait, and for how long.
func WithQueue(size int, block bool, timeout time.Duration) Option {
	return func(o *options) { o.queueSize, o.block, o.blockTimeout = size, block, timeout }
}

// WithQueueBytes bounds the memory held by queued events, as estimated
// from their decoded subjects and messages (a value reached twice counts
// twice): perSubscriber for one subscriber's queue (default
// DefaultQueueBytes, 16 MiB), total for all queues together (default
// DefaultTotalBytes, 256 MiB; an event queued for several subscribers
// counts for each; an event stays counted while it is being delivered).
// An event that would pass either bound finds the queue full, and the
// full-queue policy applies (the publisher waits, or the event is
// dropped for that subscriber and counted). So that those that keep up
// are not starved by those that do not, a subscriber with nothing queued
// or in delivery takes one event of any size (up to the daemon's
// MAX_MESSAGE_SIZE), and one whose queue holds less than its share (total
// divided by the number of subscribers) takes events up to its share,
// whatever the total. The queues therefore hold at most about twice
// total plus one message per subscriber; bound the subscribers
// (WithMaxSubscribers) and the message size accordingly.
func WithQueueBytes(perSubscriber, total int64) Option {
	return func(o *options) { o.queueBytes, o.totalBytes = perSubscriber, total }
}

// WithSendBytes bounds the bytes of the events being delivered at once,
// over all subscribers, as estimated from their decoded messages (default
// DefaultSendBytes, 64 MiB). A delivery encodes its event for its own
// subscriber and holds the encoding until it is written, so without this
// bound one large message published to many subscribers would be encoded
// for all of them at once: 60 MiB to 1000 subscribers, 60 GB. Events of
// at most 64 KiB are not counted (WithMaxSubscribers bounds them); an
// event larger than the bound is sent when nothing else is. A large event
// waits while others are written, up to the delivery timeout each for a
// subscriber that does not read (COMMTIMEOUT, or 30 s).
func WithSendBytes(n int64) Option { return func(o *options) { o.sendBytes = n } }

// WithMaxSubscribers bounds the subscribers (each is a goroutine and a
// connection; default DefaultMaxSubscribers).
func WithMaxSubscribers(n int) Option { return func(o *options) { o.maxSubscribers = n } }

// WithMaxSubjects bounds the exact subscriptions of one subscriber
// (default DefaultMaxSubjects).
func WithMaxSubjects(n int) Option { return func(o *options) { o.maxSubjects = n } }

// WithMaxSubscriptions bounds the exact subscriptions of all subscribers
// together (default DefaultMaxSubscriptions, 65536): WithMaxSubscribers
// times WithMaxSubjects alone would allow a million subjects of up to
// MaxSubjectLen characters, a gigabyte held for whoever asks.
func WithMaxSubscriptions(n int) Option { return func(o *options) { o.maxSubscriptions = n } }

// WithMaxPatternProgram bounds the compiled size of all subscribed
// patterns together, in instructions (default DefaultMaxPatternProgram,
// 196608; a pattern may have MaxPatternProgram). Every publish matches
// its subjects against every pattern, at a cost of the pattern's size
// times the subject's length, from the publish's work budget: with this
// bound at most the budget divided by MaxSubjectLen, patterns others
// subscribed cannot make a publish of one subject of any length pass
// the budget and fail, and it costs at most a fraction of a CPU-second.
func WithMaxPatternProgram(n int) Option { return func(o *options) { o.maxPatternProgram = n } }

// DefaultRegexBudget is the pattern-matching work one publish may spend
// over all its subjects, in pyre steps (the name server's default for one
// query).
const DefaultRegexBudget = pyre.DefaultBudget

// WithRegexBudget sets the matching work one publish may spend (default
// DefaultRegexBudget); a publish that would need more is refused with a
// ValueError before anything is delivered.
func WithRegexBudget(steps int64) Option { return func(o *options) { o.regexBudget = steps } }

// WithMaxPatterns bounds the pattern subscriptions per subscriber and in
// all (defaults DefaultMaxPatternsEach, DefaultMaxPatterns).
func WithMaxPatterns(each, total int) Option {
	return func(o *options) { o.maxPatternsEach, o.maxPatterns = each, total }
}

// WithRetry sets the delivery retries: a subscriber is removed after
// maxFailures consecutive failed deliveries; the waits between them start
// at base and double up to max.
func WithRetry(maxFailures int, base, max time.Duration) Option {
	return func(o *options) { o.maxFailures, o.retryBase, o.retryMax = maxFailures, base, max }
}

// WithProxyOptions adds options to the proxies that deliver events (TLS
// client certificates, a serializer, ...).
func WithProxyOptions(opts ...pyro.ProxyOption) Option {
	return func(o *options) { o.proxyOpts = append(o.proxyOpts, opts...) }
}

// WithStore sets the storage (default: NewMemoryStore()). The service
// closes it.
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

func (o *options) fill(cfg *pyro.Config) {
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.lookup == nil {
		o.lookup = net.DefaultResolver.LookupNetIP
	}
	if o.queueSize == 0 && o.blockTimeout == 0 && !o.block {
		o.queueSize, o.block, o.blockTimeout = cfg.ESQueueSize, cfg.ESBlockQueue, cfg.ESBlockTimeout
	}
	if o.queueSize <= 0 {
		o.queueSize = defaultQueueSize
	}
	if o.blockTimeout <= 0 {
		o.blockTimeout = defaultBlockTimeout
	}
	if o.queueBytes <= 0 {
		o.queueBytes = DefaultQueueBytes
	}
	if o.totalBytes <= 0 {
		o.totalBytes = DefaultTotalBytes
	}
	if o.sendBytes <= 0 {
		o.sendBytes = DefaultSendBytes
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.maxSubscribers, DefaultMaxSubscribers)
	def(&o.maxSubjects, DefaultMaxSubjects)
	def(&o.maxSubscriptions, DefaultMaxSubscriptions)
	def(&o.maxPatternProgram, DefaultMaxPatternProgram)
	def(&o.maxPatternsEach, DefaultMaxPatternsEach)
	def(&o.maxPatterns, DefaultMaxPatterns)
	def(&o.maxFailures, DefaultMaxFailures)
	if o.retryBase <= 0 {
		o.retryBase = DefaultRetryBase
	}
	if o.retryMax < o.retryBase {
		o.retryMax = max(DefaultRetryMax, o.retryBase)
	}
	if o.store == nil {
		o.store = NewMemoryStore()
	}
	if o.regexBudget <= 0 {
		o.regexBudget = DefaultRegexBudget
	}
}
