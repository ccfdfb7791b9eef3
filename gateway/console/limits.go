package console

import "github.com/pyrogo/pyro/py"

// Limits bounds what one API request may make the console parse and
// build. Every call request is checked against them before the Backend
// sees it.
type Limits struct {
	// MaxBody is the largest request body, in bytes. Default 64 KiB.
	MaxBody int64
	// MaxArgs is the largest number of positional plus keyword
	// arguments. Default 64.
	MaxArgs int
	// MaxName is the longest name or method name, in bytes. Default 1024.
	MaxName int
	// Literal bounds each argument literal's value (nesting depth, items,
	// string length, integer digits). Default: depth 32, 10,000 items,
	// 64 KiB strings, 1000 integer digits.
	Literal py.Limits
}

// DefaultLimits returns the console's default request limits: enough for
// any call a person types into a form, small enough that a client
// cannot make the console hold more than a few hundred kilobytes per
// request.
func DefaultLimits() Limits {
	return Limits{
		MaxBody: 64 << 10,
		MaxArgs: 64,
		MaxName: 1024,
		Literal: py.Limits{MaxDepth: 32, MaxItems: 10_000, MaxStringLen: 64 << 10, MaxIntDigits: 1000},
	}
}

func (l Limits) resolved() Limits {
	d := DefaultLimits()
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = d.MaxArgs
	}
	if l.MaxName <= 0 {
		l.MaxName = d.MaxName
	}
	if l.Literal.MaxDepth == 0 {
		l.Literal.MaxDepth = d.Literal.MaxDepth
	}
	if l.Literal.MaxItems == 0 {
		l.Literal.MaxItems = d.Literal.MaxItems
	}
	if l.Literal.MaxStringLen == 0 {
		l.Literal.MaxStringLen = d.Literal.MaxStringLen
	}
	if l.Literal.MaxIntDigits == 0 {
		l.Literal.MaxIntDigits = d.Literal.MaxIntDigits
	}
	return l
}
