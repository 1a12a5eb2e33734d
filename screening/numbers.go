package screening

import (
	"regexp/syntax"
	"slices"
)

// A regexp for a number (\b\d{3}-\d{2}-\d{4}) can only match where a number
// starts. Searching the whole text for it tries every position; trying it
// anchored at each number's start is far cheaper and finds the same
// matches (FuzzScreen checks that).

// digitStart reports whether every match of re starts with an ASCII
// digit right after a word boundary (\b\d{3}-...), and nothing in re looks
// at the start of the text. Such a regexp need only be tried, anchored,
// where a number starts.
func digitStart(re *syntax.Regexp) bool {
	if hasBegin(re) {
		return false
	}
	ok, _ := firstDigit(re)
	return ok && boundaryFirst(re)
}

// firstDigit reports whether a match of re that is not empty starts with
// an ASCII digit, and whether re can match empty.
func firstDigit(re *syntax.Regexp) (ok, nullable bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) > 0 && re.Rune[0] >= '0' && re.Rune[0] <= '9', false
	case syntax.OpCharClass:
		return minDigits(re) == 1, false
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEndLine, syntax.OpEndText:
		return true, true
	case syntax.OpCapture, syntax.OpPlus:
		return firstDigit(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		ok, _ := firstDigit(re.Sub[0])
		return ok, true
	case syntax.OpRepeat:
		ok, n := firstDigit(re.Sub[0])
		return ok, n || re.Min == 0
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			ok, n := firstDigit(sub)
			if !ok || !n {
				return ok, false
			}
		}
		return true, true
	case syntax.OpAlternate:
		ok, nullable = true, false
		for _, sub := range re.Sub {
			o, n := firstDigit(sub)
			ok, nullable = ok && o, nullable || n
		}
		return ok, nullable
	}
	return false, false
}

// boundaryFirst reports whether re begins with \b (each branch, if an
// alternation).
func boundaryFirst(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary:
		return true
	case syntax.OpCapture:
		return boundaryFirst(re.Sub[0])
	case syntax.OpConcat:
		return len(re.Sub) > 0 && boundaryFirst(re.Sub[0])
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !boundaryFirst(sub) {
				return false
			}
		}
		return true
	}
	return false
}

func hasBegin(re *syntax.Regexp) bool {
	if re.Op == syntax.OpBeginLine || re.Op == syntax.OpBeginText {
		return true
	}
	return slices.ContainsFunc(re.Sub, hasBegin)
}

// numberStarts lists where s.text has a digit after a word boundary.
func (s *scanner) numberStarts() []int32 {
	if !s.numbered {
		s.numbered = true
		s.starts = s.starts[:0]
		for i := 0; i < len(s.text); i++ {
			if c := s.text[i]; '0' <= c && c <= '9' && (i == 0 || !isWordByte(s.text[i-1])) {
				s.starts = append(s.starts, int32(i))
			}
		}
	}
	return s.starts
}

// isWordByte is \b's idea of a word character, for one byte of UTF-8:
// any byte of a character outside ASCII is not one.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
