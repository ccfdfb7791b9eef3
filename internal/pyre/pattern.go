package pyre

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Defaults of Limits and of a request's budget.
const (
	// DefaultMaxLen is the longest pattern accepted, in characters.
	DefaultMaxLen = 2048
	// DefaultMaxProgram is the largest compiled program accepted, in
	// instructions. Ordinary patterns need a few dozen; a bounded repeat
	// costs its count times the repeated part ([a-z]{1,1000} is about
	// 2000).
	DefaultMaxProgram = 10000
	// DefaultBudget is the matching steps one request may spend (see
	// Pattern.Cost): with Go's engine at about 1 to 3 ns per step, a
	// fraction of a CPU-second. It is enough to match a ten-instruction
	// pattern against 100,000 names of 30 characters.
	DefaultBudget = 300_000_000
)

// stepOverhead is added to the program size in the cost of a match: the
// engine's fixed work per input byte, which dominates for small programs.
const stepOverhead = 64

// Limits bound the patterns Compile accepts. A zero field means its
// default.
type Limits struct {
	// MaxLen is the longest pattern, in characters (DefaultMaxLen).
	MaxLen int
	// MaxProgram is the largest compiled program, in instructions
	// (DefaultMaxProgram).
	MaxProgram int
}

func (l Limits) maxLen() int {
	if l.MaxLen > 0 {
		return l.MaxLen
	}
	return DefaultMaxLen
}

func (l Limits) maxProgram() int {
	if l.MaxProgram > 0 {
		return l.MaxProgram
	}
	return DefaultMaxProgram
}

// Pattern is a compiled Python pattern. It is safe for concurrent use.
type Pattern struct {
	re     *regexp.Regexp
	insts  int64  // instructions of the compiled program
	prefix string // every match starts with this ("" when none is known)
}

// Compile translates a Python re pattern and compiles it within lim. A
// refused pattern is an *Error: Python's message for a syntax error, or
// one saying which limit it exceeds.
func Compile(pattern string, lim Limits) (*Pattern, error) {
	src := []rune(pattern)
	if n := len(src); n > lim.maxLen() {
		return nil, &Error{Msg: fmt.Sprintf("pattern too long (%d characters, at most %d)", n, lim.maxLen()), Pos: -1}
	}
	out, err := translate(src)
	if err != nil {
		return nil, err
	}
	expr := `\A(?:` + out + `)`
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, goError(err)
	}
	max := int64(lim.maxProgram())
	if n := treeSize(tree); n > 4*max {
		return nil, tooComplex(n, max, true)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, goError(err)
	}
	if n := int64(len(prog.Inst)); n > max {
		return nil, tooComplex(n, max, false)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, goError(err)
	}
	return &Pattern{re: re, insts: int64(len(prog.Inst)), prefix: literalPrefix(prog)}, nil
}

// literalPrefix returns the runes every match must start with: the
// case-sensitive single-rune instructions that follow the program's
// start, after the \A anchor.
func literalPrefix(prog *syntax.Prog) string {
	var b strings.Builder
	pc := uint32(prog.Start)
	for range prog.Inst { // each instruction at most once
		i := &prog.Inst[pc]
		switch {
		case i.Op == syntax.InstNop,
			i.Op == syntax.InstEmptyWidth && syntax.EmptyOp(i.Arg) == syntax.EmptyBeginText:
		case i.Op == syntax.InstRune1,
			i.Op == syntax.InstRune && len(i.Rune) == 1 && syntax.Flags(i.Arg)&syntax.FoldCase == 0:
			b.WriteRune(i.Rune[0])
		default:
			return b.String()
		}
		pc = i.Out
	}
	return b.String()
}

func goError(err error) error {
	return &Error{Msg: strings.TrimPrefix(err.Error(), "error parsing regexp: "), Pos: -1}
}

func tooComplex(n, max int64, estimate bool) error {
	about := ""
	if estimate {
		about = "about "
	}
	return &Error{Msg: fmt.Sprintf("pattern too complex (%s%d instructions, at most %d)", about, n, max), Pos: -1}
}

// sizeCap keeps treeSize's arithmetic far from overflow; any size this
// large is refused anyway.
const sizeCap = 1 << 40

// treeSize estimates, from the parse tree and without expanding repeats,
// how many instructions the compiled program will have, counting as Go's
// compiler does after simplification (x{2,4} becomes xx(x(x)?)?). It is
// an estimate (the compiler merges and adds a few instructions here and
// there), good enough to refuse a pattern whose program would be many
// times too large before building it.
func treeSize(re *syntax.Regexp) int64 {
	var n int64
	switch re.Op {
	case syntax.OpLiteral:
		n = int64(len(re.Rune))
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			n += treeSize(sub)
		}
	case syntax.OpAlternate:
		n = int64(len(re.Sub)) - 1
		for _, sub := range re.Sub {
			n += treeSize(sub)
		}
	case syntax.OpCapture, syntax.OpStar:
		n = 2 + treeSize(re.Sub[0])
	case syntax.OpPlus, syntax.OpQuest:
		n = 1 + treeSize(re.Sub[0])
	case syntax.OpRepeat:
		sub := treeSize(re.Sub[0])
		if re.Max < 0 { // x{n,}: n copies, the last one looping
			n = mulCap(max(int64(re.Min), 1), sub) + 1
		} else { // x{n,m}: m copies, m-n of them optional
			n = mulCap(int64(re.Max), sub) + int64(re.Max-re.Min)
		}
	default:
		n = 1
	}
	return min(max(n, 1), sizeCap)
}

func mulCap(a, b int64) int64 {
	if a > 0 && b > sizeCap/a {
		return sizeCap
	}
	return a * b
}

// MatchString reports whether the pattern matches at the start of s, as
// Python's re.match does (the match need not reach the end of s). It
// ignores budgets; see Budget.Match.
func (p *Pattern) MatchString(s string) bool {
	if p.prefix != "" && !strings.HasPrefix(s, p.prefix) {
		return false
	}
	return p.re.MatchString(s)
}

// Size returns the number of instructions of the compiled program.
func (p *Pattern) Size() int { return int(p.insts) }

// Cost returns the most steps matching s can take: the program size (plus
// a fixed overhead) times the length of s plus one, or just the length of
// the pattern's literal prefix when s does not start with it.
func (p *Pattern) Cost(s string) int64 {
	if p.prefix != "" && !strings.HasPrefix(s, p.prefix) {
		return int64(len(p.prefix)) + 1
	}
	return (p.insts + stepOverhead) * (int64(len(s)) + 1)
}

// ErrBudget is returned by Budget.Match when the budget cannot pay for
// the match.
var ErrBudget = errors.New("pattern matching exceeded its work budget")

// Budget is the number of matching steps one request may spend. It is
// not safe for concurrent use; give each request its own.
type Budget struct {
	left int64
}

// NewBudget returns a budget of steps (DefaultBudget is a sensible
// amount for one request).
func NewBudget(steps int64) *Budget { return &Budget{left: steps} }

// Left returns the steps not spent yet.
func (b *Budget) Left() int64 { return b.left }

// Match charges the budget the worst-case cost of matching s (see
// Pattern.Cost) and then matches. When the budget cannot pay, nothing is
// matched, the budget is emptied (so that every later Match fails too),
// and the error is ErrBudget.
func (b *Budget) Match(p *Pattern, s string) (bool, error) {
	c := p.Cost(s)
	if c > b.left {
		b.left = 0
		return false, ErrBudget
	}
	b.left -= c
	return p.MatchString(s), nil
}
