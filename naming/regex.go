package naming

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/pyrogo/pyro"
	"github.com/pyrogo/pyro/internal/pyre"
)

// Bounds on the regular expressions of list(regex=...) and
// remove(regex=...), which any client that may connect can send.
const (
	// MaxRegexLen is the longest pattern accepted, in characters.
	MaxRegexLen = pyre.DefaultMaxLen
	// MaxRegexProgram is the largest compiled pattern accepted, in
	// instructions of Go's regexp program (a 1000-fold repeat of one
	// character class is about 2000).
	MaxRegexProgram = pyre.DefaultMaxProgram
	// DefaultRegexBudget is the matching work one list or remove may spend
	// (see WithRegexBudget): about a third of a CPU-second at worst.
	DefaultRegexBudget = pyre.DefaultBudget
)

// regexWait is how long a regex query waits for one of the name server's
// regex slots before it fails as busy.
var regexWait = 10 * time.Second

// WithRegexBudget sets how much matching work one list(regex=...) or
// remove(regex=...) may do, in steps (a match costs the pattern's program
// size times the name's length; see DefaultRegexBudget). A query that
// would need more fails with NamingError before spending it. 0 keeps the
// default.
func WithRegexBudget(steps int64) ServerOption {
	return serverOption(func(o *serverConfig) { o.regexBudget = steps })
}

// regexGate bounds the regex work of one name server: how much one query
// may spend, and how many queries evaluate at once (half the CPUs, at
// least one), so that regex queries cannot take every CPU from the
// other calls.
type regexGate struct {
	budget int64
	slots  chan struct{}
}

func newRegexGate(budget int64) *regexGate {
	if budget <= 0 {
		budget = DefaultRegexBudget
	}
	return &regexGate{budget: budget, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))}
}

// compilePattern compiles a Python re pattern (re.match semantics) within
// the name server's limits; a refused pattern is NamingError("invalid
// regex: ...") as in Pyro.
func compilePattern(pattern string) (*pyre.Pattern, error) {
	p, err := pyre.Compile(pattern, pyre.Limits{MaxLen: MaxRegexLen, MaxProgram: MaxRegexProgram})
	if err != nil {
		return nil, pyro.NewError(pyro.ErrNaming, "invalid regex: "+err.Error())
	}
	return p, nil
}

// match returns the names the pattern matches, in order, spending at
// most the gate's budget and holding one of its slots meanwhile. names is
// a copy: no lock of the name server or its storage is held. It stops
// early when ctx ends (the client went away).
func (g *regexGate) match(ctx context.Context, p *pyre.Pattern, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	t := time.NewTimer(regexWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, cancelled(ctx)
	case <-t.C:
		return nil, pyro.NewError(pyro.ErrNaming, "name server busy: too many regex queries at once, try again later")
	}
	defer func() { <-g.slots }()
	b := pyre.NewBudget(g.budget)
	var out []string
	for i, name := range names {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, cancelled(ctx)
		}
		ok, err := b.Match(p, name)
		if errors.Is(err, pyre.ErrBudget) {
			return nil, pyro.NewError(pyro.ErrNaming, fmt.Sprintf(
				"regex too costly: matching it against %d names needs more than the name server's budget of %d steps (use a simpler pattern or a prefix)",
				len(names), g.budget))
		}
		if ok {
			out = append(out, name)
		}
	}
	return out, nil
}

func cancelled(ctx context.Context) error {
	return &pyro.Error{Class: pyro.ErrNaming, Msg: "regex query abandoned: " + ctx.Err().Error(), Err: ctx.Err()}
}
