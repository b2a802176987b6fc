package sandbox

import "testing"

// Every grantable scope has words on the consent page.
func TestScopeWords(t *testing.T) {
	t.Parallel()
	for _, sc := range scopes {
		if scopeWords[sc] == "" {
			t.Errorf("scope %s has no words", sc)
		}
	}
}
