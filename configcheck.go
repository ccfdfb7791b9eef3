package pyro

import (
	"errors"
	"fmt"
)

// ConfigError is a config item with a value pyrogo cannot use; Validate
// returns them (joined when there are several).
type ConfigError struct {
	Item   string // Pyro name, e.g. "NS_PORT"
	Value  string // the value as text ("<set>" for a secret)
	Reason string // what is wrong with it
}

// Error says which item has which bad value, and why.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("config %s=%s: %s", e.Item, e.Value, e.Reason)
}

// Validate checks the items that have a range: ports, durations that
// cannot be negative, PREFER_IP_VERSION, and counts that cannot be
// negative. It returns nil, a *ConfigError, or several joined with
// errors.Join, one per bad item. NewDaemon and NewProxy call it (each
// also checks the serializers it uses); naming.Start and naming.Locate
// call it through them.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, reason string) {
		it, _ := configItemNamed(name)
		errs = append(errs, &ConfigError{Item: name, Value: c.printable(it), Reason: reason})
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"NS_PORT", c.NSPort}, {"NS_BCPORT", c.NSBcPort}, {"NATPORT", c.NATPort}} {
		if p.v < 0 || p.v > 65535 {
			bad(p.name, "not a port number (0 to 65535)")
		}
	}
	for _, d := range []struct {
		name string
		neg  bool
	}{
		{"NS_AUTOCLEAN", c.NSAutoclean < 0},
		{"COMMTIMEOUT", c.CommTimeout < 0},
		{"POLLTIMEOUT", c.PollTimeout < 0},
		{"ITER_STREAM_LIFETIME", c.IterStreamLifetime < 0},
		{"ITER_STREAM_LINGER", c.IterStreamLinger < 0},
	} {
		if d.neg {
			bad(d.name, "a duration cannot be negative")
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"MAX_MESSAGE_SIZE", c.MaxMessageSize}, {"MAX_RETRIES", c.MaxRetries}, {"MAXCONNECTIONS", c.MaxConnections}} {
		if n.v < 0 {
			bad(n.name, "cannot be negative")
		}
	}
	if _, err := parseProtocolChoice(c.Protocol); err != nil {
		bad("PROTOCOL", "must be 4, 5 or auto")
	}
	switch c.PreferIPVersion {
	case 0, 4, 6:
	default:
		bad("PREFER_IP_VERSION", "must be 4, 6 or 0")
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
