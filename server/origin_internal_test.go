package server

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestNamesThisServer(t *testing.T) {
	for _, tc := range []struct {
		url, host, forwarded string
		want                 bool
	}{
		{"/dav/files/alice/x", "nas.example", "", true},
		{"http://nas.example/dav/", "nas.example", "", true},
		{"http://NAS.Example./dav/", "nas.example", "", true},
		{"http://nas.example:80/dav/", "nas.example", "", true},
		{"https://nas.example:443/dav/", "nas.example", "", true},
		{"https://nas.example/dav/", "nas.example:443", "", true},
		{"http://nas.example:8080/dav/", "nas.example:8080", "", true},
		{"http://nas.example:8080/dav/", "nas.example", "", false},
		{"http://nas.example/dav/", "nas.example:8080", "", false},
		{"https://nas.example:80/dav/", "nas.example", "", false},
		{"http://[::1]:8080/dav/", "[::1]:8080", "", true},
		{"http://elsewhere.example/dav/", "nas.example", "", false},
		{"https://public.example/dav/", "127.0.0.1:8080", "public.example", true},
		{"https://public.example/dav/", "127.0.0.1:8080", "other.example, public.example", true},
		{"https://public.example/dav/", "127.0.0.1:8080", "other.example", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("MOVE", "/dav/files/alice/a", nil)
		r.Host = tc.host
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-Host", tc.forwarded)
		}
		if got := namesThisServer(r, u); got != tc.want {
			t.Errorf("%s with Host %q, X-Forwarded-Host %q: %v, want %v", tc.url, tc.host, tc.forwarded, got, tc.want)
		}
	}
}
