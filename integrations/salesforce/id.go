package salesforce

import (
	"fmt"
	"strings"
)

const idSuffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// ID18 returns the 18-character, case-insensitive-safe form of a record id.
// It accepts a 15-character id (and appends the checksum) or an 18-character
// one in any letter case (whose first 15 characters it restores to their
// true case from the checksum).
func ID18(id string) (string, error) {
	switch len(id) {
	case 15, 18:
	default:
		return "", fmt.Errorf("salesforce: id %q must be 15 or 18 characters", id)
	}
	for i := 0; i < 15; i++ {
		if !isAlnum(id[i]) {
			return "", fmt.Errorf("salesforce: id %q has a character that is not a letter or digit", id)
		}
	}
	if len(id) == 15 {
		return id + idChecksum(id), nil
	}
	// The suffix encodes which of the first 15 characters are upper case, so
	// an 18-character id whose case was lost (a case-insensitive column, a
	// spreadsheet) can be restored exactly.
	b := []byte(id[:15])
	for block := 0; block < 3; block++ {
		n := strings.IndexByte(idSuffixAlphabet, upper(id[15+block]))
		if n < 0 {
			return "", fmt.Errorf("salesforce: id %q has a malformed checksum", id)
		}
		for i := 0; i < 5; i++ {
			c := &b[block*5+i]
			switch {
			case n&(1<<i) == 0:
				*c = lower(*c)
			case *c >= '0' && *c <= '9':
				return "", fmt.Errorf("salesforce: id %q has a wrong checksum", id)
			default:
				*c = upper(*c)
			}
		}
	}
	return string(b) + idChecksum(string(b)), nil
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

// ID15 returns the case-sensitive 15-character form of a valid id.
func ID15(id string) (string, error) {
	id18, err := ID18(id)
	if err != nil {
		return "", err
	}
	return id18[:15], nil
}

// ValidID reports whether id is a well-formed 15- or 18-character id.
func ValidID(id string) bool {
	_, err := ID18(id)
	return err == nil
}

// SameID reports whether two ids name the same record, whatever their forms.
func SameID(a, b string) bool {
	a18, err1 := ID18(a)
	b18, err2 := ID18(b)
	return err1 == nil && err2 == nil && a18 == b18
}

func idChecksum(id15 string) string {
	var out [3]byte
	for block := 0; block < 3; block++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[block*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		out[block] = idSuffixAlphabet[n]
	}
	return string(out[:])
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
