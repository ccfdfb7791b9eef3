package py

import (
	"testing"
	"time"
)

func TestAppendISOTime(t *testing.T) {
	// expectations printed by Python's datetime.isoformat()
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05+00:00"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC), "2024-01-02T03:04:05.000006+00:00"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6999, time.UTC), "2024-01-02T03:04:05.000006+00:00"}, // truncated
		{time.Date(2024, 1, 2, 3, 4, 5, 999, time.UTC), "2024-01-02T03:04:05+00:00"},
		{time.Date(2024, 1, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600)), "2024-01-02T00:00:00+01:00"},
		{time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", -3*3600-30)), "2024-01-02T03:04:05.000006-03:00:30"},
		{time.Date(2024, 7, 1, 12, 0, 0, 0, time.FixedZone("IST", 5*3600+1800)), "2024-07-01T12:00:00+05:30"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00+00:00"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31T23:59:59.999999+00:00"},
	}
	for _, c := range cases {
		b, err := appendISOTime(nil, c.t)
		if err != nil || string(b) != c.want {
			t.Errorf("appendISOTime(%v) = %q, %v; want %q", c.t, b, err, c.want)
		}
	}
	for _, bad := range []time.Time{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if _, err := appendISOTime(nil, bad); err == nil {
			t.Errorf("appendISOTime(%v) succeeded", bad)
		}
	}
}

func TestParseISOTime(t *testing.T) {
	utc := time.UTC
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, utc)},
		{"2024-01-02T03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, utc)},
		{"2024-01-02T03:04:05.006000", time.Date(2024, 1, 2, 3, 4, 5, 6000000, utc)},
		{"2024-01-02 03:04:05.123456789", time.Date(2024, 1, 2, 3, 4, 5, 123456789, utc)},
		{"2024-01-02T03:04:05.1234567891", time.Date(2024, 1, 2, 3, 4, 5, 123456789, utc)},
		{"2024-01-02T03:04:05.1", time.Date(2024, 1, 2, 3, 4, 5, 100000000, utc)},
		{"2024-01-02T03:04", time.Date(2024, 1, 2, 3, 4, 0, 0, utc)},
		{"2024-01-02T03:04:05+00:00", time.Date(2024, 1, 2, 3, 4, 5, 0, utc)},
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, utc)},
		{"2024-01-02T03:04:05+01:00", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
		{"2024-01-02T03:04:05+0100", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
		{"2024-01-02T03:04:05+01", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))},
		{"2024-01-02T03:04:05.000006-03:00:30", time.Date(2024, 1, 2, 3, 4, 5, 6000, time.FixedZone("", -3*3600-30))},
		{"2024-01-02T03:04:05+01:00:30.5", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3630))},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, utc)},
		{"03:04:05", time.Date(1, 1, 1, 3, 4, 5, 0, utc)},
		{"03:04:05.5+02:00", time.Date(1, 1, 1, 3, 4, 5, 5e8, time.FixedZone("", 7200))},
	}
	for _, c := range cases {
		got, err := parseISOTime(c.in)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("parseISOTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
			continue
		}
		_, gotOff := got.Zone()
		_, wantOff := c.want.Zone()
		if gotOff != wantOff {
			t.Errorf("parseISOTime(%q) offset %d, want %d", c.in, gotOff, wantOff)
		}
		if wantOff == 0 && got.Location() != time.UTC {
			t.Errorf("parseISOTime(%q) location %v, want UTC", c.in, got.Location())
		}
	}
	for _, bad := range []string{"", "2024", "2024-1-2", "2024-13-01", "2024-02-30", "2023-02-29", "0000-01-01",
		"2024-01-02T24:00:00", "2024-01-02T03:60", "2024-01-02T03:04:61", "2024-01-02T03", "2024-01-02X03:04",
		"2024-01-02T03:04:05.", "2024-01-02T03:04:05+1", "2024-01-02T03:04:05+25:00", "2024-01-02T03:04:05 extra",
		"2024-01-02T03:04:05+01:00x", "2024-01-02T03:04:05+01:00:30.", "03:04:05x", "3:04:05", "2024-01-02T03:04:05+01:60"} {
		if got, err := parseISOTime(bad); err == nil {
			t.Errorf("parseISOTime(%q) = %v, want error", bad, got)
		}
	}
}
