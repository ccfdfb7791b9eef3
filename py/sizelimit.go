package py

import (
	"errors"
	"fmt"
)

// SizeLimit bounds the output of one encoding: the AppendLimit methods of
// the encoders (serpent, marshal, Pyro's json and msgpack) check it at
// container and string boundaries and stop once the output would pass
// Max, instead of building the whole value. A shared value (a marshal
// back-reference, the same Go slice twice) is written in full each time,
// so a small decoded value can expand without bound when encoded again;
// the limit is what stops it.
//
// The check is made before a str, bytes or big int is appended (with its
// unescaped length) and after every container element, so the output may
// pass Max by the escapes of one string, or by a few bytes of scalars,
// before the encoder notices; a caller that must be exact checks the final
// length too.
type SizeLimit struct {
	// Max is the number of bytes the encoder may append.
	Max int
	// Grow, when not nil, is asked for room when the output is about to
	// pass Max: need is the number of appended bytes the output is about
	// to reach. It returns the new Max (at least need) or an error, which
	// the encoder returns unchanged. Without Grow, passing Max fails with
	// a *SizeError. When Grow grants room, the encoder grows its buffer to
	// the granted size at once, so the memory the buffer holds is what Grow
	// granted (rounded up to the allocator's size class).
	Grow func(need int) (newMax int, err error)
}

// ErrTooLarge is matched (errors.Is) by the error of an encoder that
// stopped at its SizeLimit.
var ErrTooLarge = errors.New("encoded value too large")

// SizeError reports an encoding stopped at its size limit.
type SizeError struct {
	Format string // "serpent", "marshal", "json", "msgpack"
	Max    int    // the limit in force, in bytes
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s: encoded value larger than %d bytes", e.Format, e.Max)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// OutputBound is an encoder's running view of a SizeLimit: where the
// output started and the length it may reach. Encoders keep one per call.
// The zero value (and NewOutputBound with a nil limit) never stops.
type OutputBound struct {
	lim   *SizeLimit
	start int
	end   int // len(b) may reach end
}

const maxInt = int(^uint(0) >> 1)

// NewOutputBound starts bounding output appended to a buffer of length
// start.
func NewOutputBound(lim *SizeLimit, start int) OutputBound {
	if lim == nil {
		return OutputBound{end: maxInt}
	}
	end := start + lim.Max
	if lim.Max < 0 || end < start {
		end = maxInt
	}
	return OutputBound{lim: lim, start: start, end: end}
}

// Room makes sure that n more bytes may be appended to b. It is cheap
// when they fit; otherwise it asks the limit's Grow for more, growing b's
// capacity to the grant, or fails with a *SizeError (format names the
// encoder) or Grow's error.
func (o *OutputBound) Room(b []byte, n int, format string) ([]byte, error) {
	if n <= o.end-len(b) {
		return b, nil
	}
	return o.grow(b, n, format)
}

func (o *OutputBound) grow(b []byte, n int, format string) ([]byte, error) {
	if o.lim == nil {
		return b, nil
	}
	need := len(b) - o.start + n
	if need < 0 || n < 0 { // overflow
		need = maxInt
	}
	if o.lim.Grow == nil {
		return b, &SizeError{Format: format, Max: o.lim.Max}
	}
	max, err := o.lim.Grow(need)
	if err != nil {
		return b, err
	}
	if max < need {
		return b, &SizeError{Format: format, Max: max}
	}
	o.lim.Max = max
	o.end = o.start + max
	if extra := o.end - len(b); extra > cap(b)-len(b) {
		nb := make([]byte, len(b), o.end)
		copy(nb, b)
		b = nb
	}
	return b, nil
}
