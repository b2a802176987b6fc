package tenants

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"
)

// ErrLinkInvalid is returned for a password reset or invitation link that
// is unknown, already used, or expired. Callers cannot tell which, and
// need not: the answer to the person is the same.
var ErrLinkInvalid = errors.New("tenants: link invalid, used or expired")

// newToken returns a random token for an emailed link and the hash to store.
// 256 bits: unguessable, so the hash needs no salt or stretching.
func newToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken is what is stored for token and what a presented token is looked
// up by.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// validToken reports whether s could be a token newToken made, so junk from
// a URL is answered with ErrLinkInvalid without a query.
func validToken(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// Link lifetimes.
const (
	// PasswordResetTTL is how long a reset link works: short, because the
	// link is as good as the password.
	PasswordResetTTL = time.Hour
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL = 7 * 24 * time.Hour
	// maxResetsPerHour bounds the reset emails one account can be sent, so
	// the form cannot be used to flood someone's inbox.
	maxResetsPerHour = 3
)
