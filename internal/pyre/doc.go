// Package pyre runs Python regular expressions (the re module's syntax,
// with re.match semantics) on Go's linear-time regexp engine, with bounds
// on what one pattern and one request may cost, so that a server can
// accept patterns from untrusted clients. The name server's list and
// remove use it; the event server's subscription patterns are meant to.
//
// A pattern is translated to RE2 syntax (constructs RE2 cannot run, such
// as backreferences and lookaround, are refused with an *Error in
// Python's wording) and compiled under Limits: at most MaxLen characters
// and a compiled program of at most MaxProgram instructions, checked on
// the parse tree before the program is built. Matching is linear in the
// length of the string, but the constant is the program size, so a
// request that matches one pattern against many strings also carries a
// Budget of matching steps: every match is charged its worst-case cost
// (program size times string length) before it runs, and a request that
// would overspend fails with ErrBudget instead of running on.
//
//	p, err := pyre.Compile(pattern, pyre.Limits{})
//	b := pyre.NewBudget(pyre.DefaultBudget)
//	for _, name := range names {
//		ok, err := b.Match(p, name)
//		...
//	}
package pyre
