package notify

import (
	"strconv"
	"strings"
)

// acceptable applies the Accept request header to mediaType (RFC 9110
// §12.5.1): the most specific matching range decides (type/subtype over
// type/* over */*), and q=0 means "not acceptable". present reports whether
// the request had a non-empty Accept header at all.
func acceptable(values []string, mediaType string) (ok, present bool) {
	mediaType = strings.ToLower(mediaType)
	major, _, _ := strings.Cut(mediaType, "/")
	best, bestQ := 0, 0.0
	for _, v := range values {
		for _, rng := range strings.Split(v, ",") {
			typ, params, _ := strings.Cut(rng, ";")
			typ = strings.ToLower(strings.TrimSpace(typ))
			if typ == "" {
				continue
			}
			present = true
			spec := 0
			switch {
			case typ == mediaType:
				spec = 3
			case typ == major+"/*":
				spec = 2
			case typ == "*/*":
				spec = 1
			}
			if spec <= best {
				continue
			}
			q, valid := qvalue(params)
			if !valid {
				continue
			}
			best, bestQ = spec, q
		}
	}
	return best > 0 && bestQ > 0, present
}

// qvalue returns the q parameter of a media range (default 1); valid is
// false when q is not a number in [0, 1].
func qvalue(params string) (float64, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.ToLower(strings.TrimSpace(k)) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}
