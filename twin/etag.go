package twin

import (
	"crypto/rand"
	"encoding/hex"
)

// ETag is an HTTP entity tag identifying one stored version of a twin or
// relationship, in the weak form ADT uses: W/"<uuid>".
type ETag string

// AnyETag is the wildcard entity tag: "If-Match: *" matches any existing
// version.
const AnyETag ETag = "*"

// NewETag returns a fresh weak entity tag holding a random (version 4) UUID.
func NewETag() ETag {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return ETag(`W/"` + string(buf[:]) + `"`)
}

// Matches reports whether the precondition tag want (from an If-Match
// header) matches e. The wildcard matches any non-empty tag; otherwise the
// comparison is weak (RFC 9110 §8.8.3.2): W/ prefixes are ignored.
func (e ETag) Matches(want ETag) bool {
	if e == "" {
		return false
	}
	if want == AnyETag {
		return true
	}
	return trimWeak(e) == trimWeak(want)
}

func trimWeak(e ETag) ETag {
	if len(e) > 2 && e[0] == 'W' && e[1] == '/' {
		return e[2:]
	}
	return e
}
