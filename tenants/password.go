package tenants

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultPasswordParams returns the parameters a Store uses unless told
// otherwise. They cost about 40–50 ms and 46 MiB per hash on a 2-core server:
// slow enough to make guessing expensive, fast enough for a log-in. The memory
// is OWASP's argon2id minimum; two passes and two lanes buy the time.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Time: 2, Memory: 46 * 1024, Threads: 2, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters read back from a stored hash, so a corrupt or hostile
// row cannot make a log-in allocate gigabytes.
const (
	maxHashMemory  = 1 << 20 // KiB (1 GiB)
	maxHashTime    = 16
	maxHashThreads = 16
	maxHashKeyLen  = 128
)

// hashPassword returns password hashed with p in PHC string format:
// $argon2id$v=19$m=47104,t=2,p=2$<salt>$<key>, base64 without padding.
func hashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed argon2id hash")

// decodeHash parses a PHC argon2id string.
func decodeHash(encoded string) (p PasswordParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if p.Memory == 0 || p.Memory > maxHashMemory || p.Time == 0 || p.Time > maxHashTime ||
		p.Threads == 0 || p.Threads > maxHashThreads {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) == 0 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) == 0 || len(key) > maxHashKeyLen {
		return p, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// checkPassword reports whether password matches the PHC string encoded, and
// whether the hash used parameters other than want (so it should be redone).
func checkPassword(password, encoded string, want PasswordParams) (ok, stale bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != want, nil
}
