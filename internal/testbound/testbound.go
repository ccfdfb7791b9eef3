package testbound

import "time"

// Scale returns d, multiplied by 10 when the race detector is on.
func Scale(d time.Duration) time.Duration {
	if raceEnabled {
		return 10 * d
	}
	return d
}
