package tenants

import (
	"strings"
	"unicode"
)

// weakPassword reports whether password, long enough by count, is still
// one that guessing tries first: a very common password (with digits or
// symbols tacked on), one character or a short group repeated, or a run
// along the alphabet, the digits or a keyboard row.
func weakPassword(password string) bool {
	p := strings.ToLower(password)
	if commonPasswords[p] {
		return true
	}
	// "password12", "qwerty2024!", "letmein!!!": a common word with digits
	// and symbols appended (or prepended) adds almost nothing.
	// Letters written as look-alike digits or symbols ("p@ssw0rd") too.
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	if commonWords[unleet.Replace(core)] {
		return true
	}
	return repeated(p) || sequential(p)
}

// unleet undoes the usual letter-for-digit swaps.
var unleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i")

// repeated reports whether s is one group of at most 4 characters repeated
// ("aaaaaaaaaa", "abcabcabca", "12121212121").
func repeated(s string) bool {
	r := []rune(s)
	for n := 1; n <= 4 && n < len(r); n++ {
		same := true
		for i := n; i < len(r); i++ {
			if r[i] != r[i-n] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// keyboardRuns are rows and sequences people walk along, forwards; the
// reverse of each counts too.
var keyboardRuns = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"01234567890",
	"qwertyuiop", "asdfghjkl", "zxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"qazwsxedcrfvtgbyhnujmikolp",
}

// sequential reports whether s, ignoring everything but letters and
// digits, lies within one of keyboardRuns, either way round, perhaps
// wrapping ("0987654321", "qwertyuiop", "1qaz2wsx3edc").
func sequential(s string) bool {
	core := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
	if len(core) < 4 {
		return false
	}
	rev := []rune(core)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	for _, run := range keyboardRuns {
		loop := run + run // a run may wrap: "7890123456"
		if strings.Contains(loop, core) || strings.Contains(loop, string(rev)) {
			return true
		}
	}
	return false
}

// commonWords are the stems of the most used passwords in public breach
// corpora: with digits or symbols added they are still tried first.
var commonWords = setOf(
	"password", "passw", "passwd", "pass", "passwort", "motdepasse", "contrasena",
	"qwerty", "qwertz", "azerty", "asdf", "letmein", "welcome", "admin", "administrator",
	"login", "iloveyou", "monkey", "dragon", "football", "baseball", "soccer", "hockey",
	"sunshine", "princess", "shadow", "master", "superman", "batman", "trustno",
	"starwars", "whatever", "freedom", "michael", "jennifer", "charlie", "jordan",
	"abc", "test", "secret", "changeme", "default", "guest", "user", "root",
	"tandem", "lightspeed", "salesforce",
)

// commonPasswords are frequent whole passwords of ten or more characters
// that the rules above do not already catch.
var commonPasswords = setOf(
	"1q2w3e4r5t", "1q2w3e4r5t6y", "q1w2e3r4t5", "q1w2e3r4t5y6", "zaq12wsxcde3",
	"1qaz2wsx3edc", "a1b2c3d4e5", "iloveyou123", "passw0rd123", "p@ssw0rd123",
	"p@ssword123", "password1234", "qwerty123456", "football123", "1234qwerasdf",
	"qwer1234asdf", "asdfqwer1234", "1234abcd1234", "abcd1234abcd", "computer123",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
