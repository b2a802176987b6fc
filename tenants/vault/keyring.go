package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeyLen is the length of a secret key: 32 random bytes.
const KeyLen = 32

const (
	// sealingInfo is the HKDF purpose label of the token-sealing key. The
	// same secret key also derives session keys elsewhere; a distinct label
	// keeps the derived keys independent, so the raw key never meets AES.
	sealingInfo = "tandem token vault v1"
	// keyIDLabel is HMACed with the key to name it in the key_id column.
	keyIDLabel = "tandem key id"

	// formatV1 is the first byte of every sealed value: version 1 is
	// AES-256-GCM, 12-byte random nonce, then ciphertext and 16-byte tag.
	formatV1  byte = 1
	nonceSize      = 12
	aadPrefix      = "tandem/vault/v1"
)

// ErrTampered reports a sealed value that does not authenticate: it was
// modified, truncated, or copied from another connection or field.
var ErrTampered = errors.New("vault: sealed token does not authenticate (modified, or copied from another connection or field)")

// UnknownKeyError reports a value sealed under a key the ring does not hold.
type UnknownKeyError struct {
	KeyID string
}

// Error names the key id and the variable that supplies old keys.
func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("vault: token sealed with key id %q, which is not in the key ring: add that key to TANDEM_SECRET_KEYS (old keys, comma-separated)", e.KeyID)
}

type ringKey struct {
	id   string
	aead cipher.AEAD
}

// KeyRing holds the current sealing key and any older keys kept for
// opening values sealed before a rotation. It is safe for concurrent use.
type KeyRing struct {
	current *ringKey
	byID    map[string]*ringKey
}

// NewKeyRing returns a ring that seals under current and opens values
// sealed under current or any of old. Every key must be KeyLen bytes; old
// keys equal to current or to each other are ignored.
func NewKeyRing(current []byte, old ...[]byte) (*KeyRing, error) {
	cur, err := newRingKey(current)
	if err != nil {
		return nil, fmt.Errorf("vault: current key: %w", err)
	}
	r := &KeyRing{current: cur, byID: map[string]*ringKey{cur.id: cur}}
	for i, k := range old {
		rk, err := newRingKey(k)
		if err != nil {
			return nil, fmt.Errorf("vault: old key %d: %w", i+1, err)
		}
		if _, dup := r.byID[rk.id]; !dup {
			r.byID[rk.id] = rk
		}
	}
	return r, nil
}

// ParseKeys builds a ring from the values of TANDEM_SECRET_KEY (current,
// required) and TANDEM_SECRET_KEYS (older keys, comma-separated, may be
// empty). Keys are base64 (standard or URL alphabet, padded or not). Errors
// name the variable and what it needs, never the value.
func ParseKeys(current, old string) (*KeyRing, error) {
	const need = "it needs 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)"
	current = strings.TrimSpace(current)
	if current == "" {
		return nil, fmt.Errorf("TANDEM_SECRET_KEY is not set: %s", need)
	}
	cur, err := decodeKey(current)
	if err != nil {
		return nil, fmt.Errorf("TANDEM_SECRET_KEY %v: %s", err, need)
	}
	var olds [][]byte
	entries := strings.Split(old, ",")
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		k, err := decodeKey(e)
		if err != nil {
			return nil, fmt.Errorf("TANDEM_SECRET_KEYS (old keys, comma-separated) entry %d of %d %v: %s", i+1, len(entries), err, need)
		}
		olds = append(olds, k)
	}
	return NewKeyRing(cur, olds...)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeyLen {
				return nil, fmt.Errorf("decodes to %d bytes", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is not valid base64")
}

func newRingKey(key []byte) (*ringKey, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeyLen)
	}
	sk, err := hkdf.Key(sha256.New, key, nil, sealingInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(sk)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &ringKey{id: KeyID(key), aead: aead}, nil
}

// KeyID returns the name stored beside values sealed under key: the first 8
// bytes of HMAC-SHA256(key, "tandem key id") in hex. It identifies the key
// without revealing it.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(keyIDLabel))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// CurrentID returns the id of the key new values are sealed under.
func (r *KeyRing) CurrentID() string { return r.current.id }

// Has reports whether the ring can open values sealed under key id.
func (r *KeyRing) Has(id string) bool {
	_, ok := r.byID[id]
	return ok
}

// aad binds a sealed value to its row and field, so a ciphertext copied to
// another tenant's row, another provider or the other token field fails to
// open.
func aad(tenantID, provider, field string) []byte {
	return []byte(aadPrefix + "\x00" + tenantID + "\x00" + provider + "\x00" + field)
}

// seal encrypts plaintext under the current key for (tenantID, provider,
// field) and returns the stored form: version byte, nonce, ciphertext.
func (r *KeyRing) seal(tenantID, provider, field, plaintext string) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+r.current.aead.Overhead())
	out[0] = formatV1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return r.current.aead.Seal(out, out[1:], []byte(plaintext), aad(tenantID, provider, field)), nil
}

// open reverses seal for a value stored with key id keyID.
func (r *KeyRing) open(keyID, tenantID, provider, field string, sealed []byte) (string, error) {
	k, ok := r.byID[keyID]
	if !ok {
		return "", &UnknownKeyError{KeyID: keyID}
	}
	if len(sealed) < 1+nonceSize+k.aead.Overhead() {
		return "", ErrTampered
	}
	if sealed[0] != formatV1 {
		return "", fmt.Errorf("vault: sealed token has unknown format version %d", sealed[0])
	}
	pt, err := k.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], aad(tenantID, provider, field))
	if err != nil {
		return "", ErrTampered
	}
	return string(pt), nil
}
