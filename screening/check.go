package screening

// checks are the tests a regexp rule can ask of its match (check: name),
// for what a pattern cannot say: that the digits of a card number add up.
var checks = map[string]func(match string) bool{
	"luhn": luhn,
	"ssn":  ssn,
}

// checkNames lists the checks for error messages.
const checkNames = "luhn or ssn"

// digitsOf returns the ASCII digits of s, up to 32 of them (false if more).
func digitsOf(s string, buf *[32]byte) ([]byte, bool) {
	d := buf[:0]
	for i := 0; i < len(s); i++ {
		if c := s[i]; '0' <= c && c <= '9' {
			if len(d) == len(buf) {
				return nil, false
			}
			d = append(d, c)
		}
	}
	return d, true
}

// luhn reports whether the digits of match are a payment card number: 13
// to 19 digits whose Luhn checksum is 0. Random digit strings pass one
// time in ten, so the rule's pattern should already look like a card.
func luhn(match string) bool {
	var buf [32]byte
	d, ok := digitsOf(match, &buf)
	if !ok || len(d) < 13 || len(d) > 19 {
		return false
	}
	sum := 0
	for i := range d {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// ssn reports whether the digits of match could be a social security
// number: nine digits, area not 000, 666 or 900-999, group not 00, serial
// not 0000 (numbers the SSA never issues, such as the 000-00-0000 of
// forms and examples).
func ssn(match string) bool {
	var buf [32]byte
	d, ok := digitsOf(match, &buf)
	if !ok || len(d) != 9 {
		return false
	}
	area, group, serial := string(d[:3]), string(d[3:5]), string(d[5:])
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}
