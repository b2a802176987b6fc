package soql

import (
	"strings"
)

// tokenKind classifies lexer tokens.
type tokenKind int

const (
	tokEOF      tokenKind = iota
	tokIdent              // identifiers, keywords and dotted paths: Account.Name
	tokString             // 'quoted'; text keeps its escapes undecoded
	tokNumber             // 42, -1.5
	tokDate               // 2026-11-27
	tokDateTime           // 2026-11-27T10:00:00Z
	tokOp                 // = != <> < > <= >=
	tokLParen
	tokRParen
	tokComma
	tokColon
	tokIllegal
)

// token is one lexeme with its byte offset in the query, for error carets.
type token struct {
	kind tokenKind
	text string
	pos  int
}

// lex splits q into tokens. Lexing errors surface as a tokIllegal token so
// the parser reports them with the same "unexpected token" wording and
// position as any other syntax error.
func lex(q string) []token {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ",", i})
			i++
		case c == ':':
			toks = append(toks, token{tokColon, ":", i})
			i++
		case c == '=':
			toks = append(toks, token{tokOp, "=", i})
			i++
		case c == '!':
			if i+1 < len(q) && q[i+1] == '=' {
				toks = append(toks, token{tokOp, "!=", i})
				i += 2
			} else {
				toks = append(toks, token{tokIllegal, "!", i})
				i++
			}
		case c == '<':
			switch {
			case i+1 < len(q) && q[i+1] == '=':
				toks = append(toks, token{tokOp, "<=", i})
				i += 2
			case i+1 < len(q) && q[i+1] == '>':
				toks = append(toks, token{tokOp, "!=", i})
				i += 2
			default:
				toks = append(toks, token{tokOp, "<", i})
				i++
			}
		case c == '>':
			if i+1 < len(q) && q[i+1] == '=' {
				toks = append(toks, token{tokOp, ">=", i})
				i += 2
			} else {
				toks = append(toks, token{tokOp, ">", i})
				i++
			}
		case c == '\'':
			end, ok := scanString(q, i)
			if !ok {
				toks = append(toks, token{tokIllegal, q[i:], i})
				return append(toks, token{tokEOF, "", len(q)})
			}
			toks = append(toks, token{tokString, q[i+1 : end], i})
			i = end + 1
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(q) && (isDigit(q[i+1]) || q[i+1] == '.')) || (c == '.' && i+1 < len(q) && isDigit(q[i+1])):
			kind, end := scanNumberOrDate(q, i)
			toks = append(toks, token{kind, q[i:end], i})
			i = end
		case isIdentStart(c):
			j := i + 1
			for j < len(q) && (isIdentPart(q[j]) || (q[j] == '.' && j+1 < len(q) && isIdentStart(q[j+1]))) {
				j++
			}
			toks = append(toks, token{tokIdent, q[i:j], i})
			i = j
		default:
			end := i + 1
			for end < len(q) && q[end] >= 0x80 && q[end] < 0xC0 {
				end++ // keep a multi-byte rune whole in the message
			}
			toks = append(toks, token{tokIllegal, q[i:end], i})
			i = end
		}
	}
	return append(toks, token{tokEOF, "", len(q)})
}

// scanString returns the index of the closing quote of the string literal
// starting at q[start], honouring backslash escapes.
func scanString(q string, start int) (int, bool) {
	for i := start + 1; i < len(q); i++ {
		switch q[i] {
		case '\\':
			i++
		case '\'':
			return i, true
		}
	}
	return 0, false
}

// scanNumberOrDate scans a number, a date (YYYY-MM-DD) or a datetime
// (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)) starting at q[start]. Dates are
// recognised by shape; their validity is checked by the parser.
func scanNumberOrDate(q string, start int) (tokenKind, int) {
	if isDateAt(q, start) {
		end := start + 10
		if end < len(q) && (q[end] == 'T' || q[end] == 't') {
			j := end + 1
			for j < len(q) && (isDigit(q[j]) || q[j] == ':' || q[j] == '.') {
				j++
			}
			if j < len(q) && (q[j] == 'Z' || q[j] == 'z') {
				j++
			} else if j < len(q) && (q[j] == '+' || q[j] == '-') {
				j++
				for j < len(q) && (isDigit(q[j]) || q[j] == ':') {
					j++
				}
			}
			return tokDateTime, j
		}
		return tokDate, end
	}
	i := start
	if q[i] == '-' || q[i] == '+' {
		i++
	}
	for i < len(q) && isDigit(q[i]) {
		i++
	}
	if i < len(q) && q[i] == '.' {
		i++
		for i < len(q) && isDigit(q[i]) {
			i++
		}
	}
	if i < len(q) && (q[i] == 'e' || q[i] == 'E') {
		j := i + 1
		if j < len(q) && (q[j] == '+' || q[j] == '-') {
			j++
		}
		if j < len(q) && isDigit(q[j]) {
			for j < len(q) && isDigit(q[j]) {
				j++
			}
			i = j
		}
	}
	// A number glued to letters (12abc) is one bad token, not two good ones.
	if i < len(q) && isIdentPart(q[i]) {
		for i < len(q) && isIdentPart(q[i]) {
			i++
		}
		return tokIllegal, i
	}
	return tokNumber, i
}

func isDateAt(q string, i int) bool {
	if len(q)-i < 10 {
		return false
	}
	s := q[i : i+10]
	for k := 0; k < 10; k++ {
		switch k {
		case 4, 7:
			if s[k] != '-' {
				return false
			}
		default:
			if !isDigit(s[k]) {
				return false
			}
		}
	}
	return true
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// keyword reports whether tok is the identifier kw, case-insensitively.
func (t token) is(kw string) bool { return t.kind == tokIdent && strings.EqualFold(t.text, kw) }
