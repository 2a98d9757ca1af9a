package lock

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"  ", 0},
		{"Second-3600", time.Hour},
		{"second-5", 5 * time.Second},
		{"Second-0", 0},
		{"Infinite", InfiniteTimeout},
		{"infinite", InfiniteTimeout},
		{"Infinite, Second-4100000000", InfiniteTimeout}, // RFC 4918 §10.7 example
		{" Second-60 , Infinite", time.Minute},
		{"Extend-7, Second-9", 9 * time.Second},
		{"Second-4294967296, Second-10", 10 * time.Second}, // above 2^32-1: not understood
		{"Second-4294967295", 4294967295 * time.Second},
		{"Second-+5, Second--5, Second-5", 5 * time.Second},
		{",Second-7", 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := ParseTimeout(tt.header)
			if err != nil || got != tt.want {
				t.Fatalf("ParseTimeout(%q) = %v, %v; want %v", tt.header, got, err, tt.want)
			}
		})
	}
	for _, h := range []string{"Second-", "Second-x", "Seconds-5", "Infinity", "5", ",", "Second-99999999999999999999"} {
		t.Run(h, func(t *testing.T) {
			if got, err := ParseTimeout(h); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseTimeout(%q) = %v, %v; want ErrMalformed", h, got, err)
			}
		})
	}
}

func TestFormatTimeout(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{InfiniteTimeout, "Infinite"},
		{0, "Second-0"},
		{time.Hour, "Second-3600"},
		{1500 * time.Millisecond, "Second-2"},
		{time.Nanosecond, "Second-1"},
	}
	for _, tt := range tests {
		if got := FormatTimeout(tt.d); got != tt.want {
			t.Errorf("FormatTimeout(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
