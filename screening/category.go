package screening

// Category is one of the twelve kinds of content that section 3.4.3 of the
// social media use policy says may be removed.
type Category struct {
	Letter      string // "A".."L"
	Name        string // short, for lists and filters, e.g. "Profanity"
	Description string // the policy's own words
}

var categories = []Category{
	{"A", "Profanity", "Profane language or content"},
	{"B", "Discrimination", "Content that promotes, fosters or perpetuates discrimination"},
	{"C", "Sexual harassment", "Sexual harassment content"},
	{"D", "Solicitation or advertising", "Unauthorized solicitations of commerce or advertisements including promotion or endorsement of commercial business' or activities other than expressions of appreciation for sponsorship or significant donations to the City"},
	{"E", "Political endorsement", "Endorsement of political issues, groups or individuals; including fundraisers for any unsponsored City event"},
	{"F", "Illegal activity", "Conduct or encouragement of illegal activity"},
	{"G", "Safety or security", "Information that may tend to compromise the safety or security of the public or public systems"},
	{"H", "Defamation", "Content intended to defame any person, group or organization"},
	{"I", "Trademark or copyright", "Content that violates a legal ownership interest of any other party, such as trademark or copyright infringement"},
	{"J", "False statements", "Making or publishing of false, vicious or malicious statements concerning any employee, the City or its operations"},
	{"K", "Violence or threats", "Violent or threatening content"},
	{"L", "Confidential information", "Disclosure of confidential, sensitive or proprietary information"},
}

// Categories returns the policy's categories A to L in order. The slice is
// a copy; changing it changes nothing here.
func Categories() []Category {
	return append([]Category(nil), categories...)
}

// CategoryName returns the short name of a category letter, or "" for a
// letter the policy does not have.
func CategoryName(letter string) string {
	if i := categoryIndex(letter); i >= 0 {
		return categories[i].Name
	}
	return ""
}

// categoryIndex is the letter's position in categories, or -1.
func categoryIndex(letter string) int {
	if len(letter) != 1 || letter[0] < 'A' || letter[0] > 'L' {
		return -1
	}
	return int(letter[0] - 'A')
}
