package py

import (
	"errors"
	"strconv"
	"time"
)

// appendISOTime appends t as Python's datetime.isoformat() writes an aware
// datetime: microseconds only when non-zero (truncated from nanoseconds),
// and the UTC offset as +HH:MM, or +HH:MM:SS when it has seconds.
func appendISOTime(b []byte, t time.Time) ([]byte, error) {
	year, month, day := t.Date()
	if year < 1 || year > 9999 {
		return nil, errors.New("year " + strconv.Itoa(year) + " is outside Python's datetime range 1..9999")
	}
	hour, min, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendDigits(b, us, 6)
	}
	_, off := t.Zone()
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendDigits(b, off/3600, 2)
	b = append(b, ':')
	b = appendDigits(b, off/60%60, 2)
	if off%60 != 0 {
		b = append(b, ':')
		b = appendDigits(b, off%60, 2)
	}
	return b, nil
}

func appendDigits(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || width > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	return append(b, buf[i:]...)
}

// isoParser walks an ISO 8601 string.
type isoParser struct {
	s   string
	pos int
}

func (p *isoParser) digits(n int) (int, bool) {
	if p.pos+n > len(p.s) {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := p.s[p.pos+i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	p.pos += n
	return v, true
}

func (p *isoParser) accept(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *isoParser) done() bool { return p.pos == len(p.s) }

var errISO = errors.New("not an ISO 8601 date/time as Python writes it")

// clock parses HH:MM[:SS[.f+]] and returns the nanoseconds since midnight
// parts.
func (p *isoParser) clock() (hour, min, sec, nsec int, err error) {
	var ok bool
	if hour, ok = p.digits(2); !ok || hour > 23 {
		return 0, 0, 0, 0, errISO
	}
	if !p.accept(':') {
		return 0, 0, 0, 0, errISO
	}
	if min, ok = p.digits(2); !ok || min > 59 {
		return 0, 0, 0, 0, errISO
	}
	if !p.accept(':') {
		return hour, min, 0, 0, nil
	}
	if sec, ok = p.digits(2); !ok || sec > 59 {
		return 0, 0, 0, 0, errISO
	}
	if p.accept('.') || p.accept(',') {
		n := 0
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(p.s[p.pos]-'0')
			}
			n++
			p.pos++
		}
		if n == 0 {
			return 0, 0, 0, 0, errISO
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	return hour, min, sec, nsec, nil
}

// zone parses an optional Z or ±HH[[:]MM[:SS[.ffffff]]] suffix.
func (p *isoParser) zone() (*time.Location, error) {
	if p.done() {
		return time.UTC, nil
	}
	if p.accept('Z') || p.accept('z') {
		return time.UTC, nil
	}
	sign := 1
	switch {
	case p.accept('+'):
	case p.accept('-'):
		sign = -1
	default:
		return nil, errISO
	}
	h, ok := p.digits(2)
	if !ok || h > 23 {
		return nil, errISO
	}
	off := h * 3600
	if !p.done() {
		colon := p.accept(':')
		m, ok := p.digits(2)
		if !ok || m > 59 {
			return nil, errISO
		}
		off += m * 60
		if colon && p.accept(':') {
			s, ok := p.digits(2)
			if !ok || s > 59 {
				return nil, errISO
			}
			off += s
			if p.accept('.') { // sub-second offsets exist in Python; Go zones are whole seconds
				n := 0
				for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
					p.pos++
					n++
				}
				if n == 0 {
					return nil, errISO
				}
			}
		}
	}
	if off == 0 {
		return time.UTC, nil
	}
	return time.FixedZone("", sign*off), nil
}

// parseISOTime parses the forms Python's date/datetime/time isoformat()
// and str() write, plus the looser offsets fromisoformat accepts. Naive
// values are UTC.
func parseISOTime(s string) (time.Time, error) {
	p := &isoParser{s: s}
	if len(s) >= 3 && s[2] == ':' { // a bare time
		hour, min, sec, nsec, err := p.clock()
		if err != nil {
			return time.Time{}, err
		}
		loc, err := p.zone()
		if err != nil || !p.done() {
			return time.Time{}, errISO
		}
		return time.Date(1, 1, 1, hour, min, sec, nsec, loc), nil
	}
	year, ok := p.digits(4)
	if !ok || year < 1 || !p.accept('-') {
		return time.Time{}, errISO
	}
	month, ok := p.digits(2)
	if !ok || month < 1 || month > 12 || !p.accept('-') {
		return time.Time{}, errISO
	}
	day, ok := p.digits(2)
	if !ok || day < 1 || day > daysIn(year, month) {
		return time.Time{}, errISO
	}
	if p.done() {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
	}
	if !p.accept('T') && !p.accept(' ') && !p.accept('t') {
		return time.Time{}, errISO
	}
	hour, min, sec, nsec, err := p.clock()
	if err != nil {
		return time.Time{}, err
	}
	loc, err := p.zone()
	if err != nil || !p.done() {
		return time.Time{}, errISO
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc), nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
