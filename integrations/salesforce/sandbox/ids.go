package sandbox

import "strings"

// base62 is the digit alphabet of the counter part of generated ids. Its
// order matches Salesforce's: digits, then upper case, then lower case.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksumChars maps a 5-bit block value to the suffix character of an
// 18-character id.
const checksumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// pod is the two-character instance part every generated id carries.
const pod = "RM"

// idChecksum returns the three characters that turn a 15-character,
// case-sensitive id into its 18-character, case-insensitive form: for each
// block of five characters, bit i is set when character i is an upper-case
// letter.
func idChecksum(id15 string) string {
	var b [3]byte
	for block := 0; block < 3; block++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[block*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		b[block] = checksumChars[n]
	}
	return string(b[:])
}

// makeID builds the 18-character id for the n-th record created with the key
// prefix: prefix (3) + pod (2) + base-62 counter (10) + checksum (3).
func makeID(prefix string, n uint64) string {
	var digits [10]byte
	for i := 9; i >= 0; i-- {
		digits[i] = base62[n%62]
		n /= 62
	}
	id15 := prefix + pod + string(digits[:])
	return id15 + idChecksum(id15)
}

// normalizeID returns the canonical 18-character form of a 15- or
// 18-character id, or false when s is not shaped like an id. An 18-character
// id may arrive with its case lost (the point of the suffix): the case of the
// first 15 characters is restored from the checksum before it is compared.
func normalizeID(s string) (string, bool) {
	if len(s) != 15 && len(s) != 18 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", false
		}
	}
	if len(s) == 15 {
		return s + idChecksum(s), true
	}
	suffix := strings.ToUpper(s[15:])
	if idChecksum(s[:15]) == suffix {
		return s[:15] + suffix, true
	}
	// Restore case from the suffix bits.
	restored := []byte(s[:15])
	for block := 0; block < 3; block++ {
		n := strings.IndexByte(checksumChars, suffix[block])
		if n < 0 {
			return "", false
		}
		for i := 0; i < 5; i++ {
			c := restored[block*5+i]
			upper := n&(1<<i) != 0
			switch {
			case c >= 'a' && c <= 'z' && upper:
				restored[block*5+i] = c - 'a' + 'A'
			case c >= 'A' && c <= 'Z' && !upper:
				restored[block*5+i] = c - 'A' + 'a'
			case upper && !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'):
				return "", false // a bit set for a digit: not an id
			}
		}
	}
	if idChecksum(string(restored)) != suffix {
		return "", false
	}
	return string(restored) + suffix, true
}
