package presence

import (
	"strconv"
	"strings"
)

// accepts reports whether the values of a SUBSCRIBE's Accept headers allow
// a body of type ctype. No Accept header means the package's default (RFC
// 6665 §7.2); so does an empty one, which some phones send. A media range
// matches exactly or as type/* or */*, and q=0 refuses it.
func accepts(values []string, ctype string) bool {
	if len(values) == 0 {
		return true
	}
	major, _, _ := strings.Cut(ctype, "/")
	empty := true
	for _, v := range values {
		for _, r := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(r, ";")
			mt = lower(strings.TrimSpace(mt))
			if mt == "" {
				continue
			}
			empty = false
			if (mt == ctype || mt == major+"/*" || mt == "*/*") && qualityAbove0(params) {
				return true
			}
		}
	}
	return empty
}

// qualityAbove0 reads the q parameter of a media range (default 1).
func qualityAbove0(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if lower(strings.TrimSpace(k)) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err != nil || q > 0 // a malformed q is not a refusal
	}
	return true
}
