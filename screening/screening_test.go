package screening

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/civicarchive/civicarchive/configs"
)

// mustDefault is the shipped rule set; a broken default.yaml fails here
// rather than in Default's panic.
func mustDefault(tb testing.TB) *Engine {
	tb.Helper()
	e, err := Load(configs.DefaultScreening)
	if err != nil {
		tb.Fatalf("Load(configs.DefaultScreening): %v", err)
	}
	return e
}

// mustLoad compiles a rules file written in a test.
func mustLoad(tb testing.TB, yaml string) *Engine {
	tb.Helper()
	e, err := Load([]byte(yaml))
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return e
}

// rulesOf lists the rule ids of hits, in order.
func rulesOf(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Rule)
	}
	return out
}

func TestDefaultRules(t *testing.T) {
	e := mustDefault(t)
	if Default().Version() != e.Version() {
		t.Errorf("Default().Version() = %s, Load(default) = %s", Default().Version(), e.Version())
	}
	sum := sha256.Sum256(configs.DefaultScreening)
	if want := hex.EncodeToString(sum[:])[:12]; e.Version() != want {
		t.Errorf("Version() = %q, want %q", e.Version(), want)
	}
	if e.Label() != "clinton-2026.1" {
		t.Errorf("Label() = %q", e.Label())
	}
	covered := map[string]int{}
	rules := e.Rules()
	for i, r := range rules {
		covered[r.Category]++
		if !strings.HasPrefix(r.ID, r.Category+".") || r.Note == "" || r.Kind == "" {
			t.Errorf("rule %+v: id must start with its category, and a note and kind are expected", r)
		}
		if i > 0 && (rules[i-1].Category > r.Category || rules[i-1].Category == r.Category && rules[i-1].ID >= r.ID) {
			t.Errorf("Rules() not sorted: %s before %s", rules[i-1].ID, r.ID)
		}
	}
	for _, c := range Categories() {
		if covered[c.Letter] == 0 {
			t.Errorf("category %s (%s) has no rule in the default rules", c.Letter, c.Name)
		}
	}
}

func TestCategories(t *testing.T) {
	cs := Categories()
	if len(cs) != 12 {
		t.Fatalf("%d categories, want 12", len(cs))
	}
	for i, c := range cs {
		if want := string(rune('A' + i)); c.Letter != want || c.Name == "" || c.Description == "" {
			t.Errorf("Categories()[%d] = %+v", i, c)
		}
		if CategoryName(c.Letter) != c.Name {
			t.Errorf("CategoryName(%q) = %q, want %q", c.Letter, CategoryName(c.Letter), c.Name)
		}
	}
	cs[0].Name = "changed"
	if CategoryName("A") != "Profanity" {
		t.Error("changing the slice Categories returned changed the categories")
	}
	for _, bad := range []string{"", "M", "a", "AB"} {
		if CategoryName(bad) != "" {
			t.Errorf("CategoryName(%q) = %q, want empty", bad, CategoryName(bad))
		}
	}
}

// TestEachCategoryFires screens realistic comments, one or more per
// category, and names exactly the rules each should fire.
func TestEachCategoryFires(t *testing.T) {
	e := mustDefault(t)
	tests := []struct {
		text  string
		rules []string
		match string // the first hit's Match
	}{
		{"This damn construction has been going on for months", []string{"A.profanity"}, "damn"},
		{"Fix the roads, this is bullshit", []string{"A.profanity"}, "bullshit"},
		{"Whoever runs this page is an asshole", []string{"A.profanity"}, "asshole"},
		{"Go back to your country if you don't like it here", []string{"B.exclusion"}, "Go back to your country"},
		{"Refugees are vermin and we don't want them", []string{"B.dehumanizing"}, "Refugees are vermin"},
		{"Only a retard would design this intersection", []string{"B.slurs"}, "retard"},
		{"Hey beautiful, send me nudes", []string{"C.harassment"}, "send me nudes"},
		{"The girl at the front desk is a total slut", []string{"C.sexual-words"}, "slut"},
		{"Buy now! Limited time offer on solar panels", []string{"D.advertising"}, "Buy now"},
		{"DM me for prices, I do landscaping cheap", []string{"D.advertising"}, "DM me for prices"},
		{"Handmade soaps at www.example-soap.test, use code PARADE for a discount", []string{"D.shop-link"}, "www.example-soap.test, use code PARADE for a discount"},
		{"Vote for Jensen on November 4th!", []string{"E.vote-for"}, "Vote for Jensen"},
		{"Please re-elect our mayor, she has done great work", []string{"E.endorsement"}, "re-elect"},
		{"Donate to my campaign so we can fix this city", []string{"E.endorsement"}, "Donate to my campaign"},
		{"Vote no on the tax increase", []string{"E.ballot-measure"}, "Vote no on"},
		{"Anyone selling weed in Clinton? message me", []string{"F.drugs"}, "Anyone selling weed"},
		{"Look up how to make meth, it's easy", []string{"F.illegal"}, "how to make meth"},
		{"The password is Spring2026 for the council laptop", []string{"G.access"}, "The password is"},
		{"The gate code for the shop yard is 4455", []string{"G.access"}, "gate code"},
		{"login: cityadmin", []string{"G.credentials"}, "login: cityadmin"},
		{"Tom Baker is a thief, he stole my trailer", []string{"H.named-accusation"}, "Tom Baker is a thief"},
		{"Jenny Olsen is a liar", []string{"H.named-accusation"}, "Jenny Olsen is a liar"},
		{"Watch full movie online free here", []string{"I.piracy"}, "Watch full movie"},
		{"This is copyright infringement, that's my photo", []string{"I.infringement"}, "copyright infringement"},
		{"The mayor is corrupt", []string{"J.officials-are"}, "mayor is corrupt"},
		{"Officer Smith lied about the stop", []string{"J.officials-did"}, "Officer Smith lied"},
		{"City employees steal from us every day", []string{"J.officials-did"}, "City employees steal"},
		{"I will kill whoever hit my car", []string{"K.threats"}, "I will kill"},
		{"Somebody should burn down city hall", []string{"K.threats"}, "burn down city hall"},
		{"I'm going to shoot up the city council meeting", []string{"K.shoot-up"}, "shoot up the city council"},
		{"there is a bomb under the bleachers", []string{"K.bomb"}, "bomb"},
		{"My SSN is 529-01-4432 if you need it", []string{"L.ssn"}, "529-01-4432"},
		{"ssn 529014432", []string{"L.ssn-labelled"}, "ssn 529014432"},
		{"Call him at (801) 555-1234", []string{"L.phone"}, "(801) 555-1234"},
		{"Call him at 801-555-1234", []string{"L.phone"}, "801-555-1234"},
		{"Call him at 801.555.1234", []string{"L.phone"}, "801.555.1234"},
		{"Call him at +1 801 555 1234", []string{"L.phone"}, "+1 801 555 1234"},
		{"Pay with 4111 1111 1111 1111 exp 09/28", []string{"L.card"}, "4111 1111 1111 1111"},
		{"amex 3782 822463 10005", []string{"L.card"}, "3782 822463 10005"},
		{"card 4111111111111111", []string{"L.card"}, "4111111111111111"},
		{"She lives at 4567 North 200 East", []string{"L.address-grid"}, "4567 North 200 East"},
		{"the house at 1234 W. 1800 N. is a mess", []string{"L.address-grid"}, "1234 W. 1800 N"},
		{"Drop it off at 123 W Main St", []string{"L.address-street"}, "123 W Main St"},
		{"DOB 7/4/1986", []string{"L.birth-date"}, "DOB 7/4/1986"},
		{"he was born on July 4, 1986", []string{"L.birth-date"}, "born on July 4, 1986"},
		{"account number: 00123456789", []string{"L.account-number"}, "account number: 00123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			hits := e.Screen(tt.text)
			if got := rulesOf(hits); !slices.Equal(got, tt.rules) {
				t.Fatalf("rules = %v, want %v (hits %+v)", got, tt.rules, hits)
			}
			if hits[0].Match != tt.match {
				t.Errorf("Match = %q, want %q", hits[0].Match, tt.match)
			}
			if hits[0].Category != tt.rules[0][:1] {
				t.Errorf("Category = %q, want %q", hits[0].Category, tt.rules[0][:1])
			}
		})
	}
}

// TestObfuscated checks that the usual ways of disguising a word are
// read through, and that Match is what was written.
func TestObfuscated(t *testing.T) {
	e := mustDefault(t)
	for _, tt := range []struct{ text, match string }{
		{"d*mn it", "d*mn"},
		{"that's sh1t", "sh1t"},
		{"$hit happens", "$hit"},
		{"shiiiit", "shiiiit"},
		{"daaaamn", "daaaamn"},
		{"f**k this", "f**k"},
		{"F_U_C_K", "F_U_C_K"},
		{"s.h.i.t", "s.h.i.t"},
		{"s-h-i-t", "s-h-i-t"},
		{"D A M N", "D A M N"},
		{"what a d a m n mess", "d a m n"},
		{"DAMN", "DAMN"},
		{"Dämn", "Dämn"},
		{"ｓｈｉｔ", "ｓｈｉｔ"},
		{"sh\u200bit", "sh\u200bit"},
		{"fυck", "fυck"},       // Greek upsilon
		{"a$$hole", "a$$hole"}, // $ for s
		{"@sshole", ""},        // a leading @ is a mention, not an a
		{"b!tch", "b!tch"},
		{"he11 no, bullsh1t", "bullsh1t"},
		{"sh!t!", "sh!t"},
		{"*shit*", "shit"},
		{"\"Damn.\"", "Damn"},
		{"F***ING", "F***ING"},
		{"f***g", ""}, // masks must not outnumber letters
		{"f*u*c*k", "f*u*c*k"},
		{"fuckers", "fuckers"},
	} {
		t.Run(tt.text, func(t *testing.T) {
			hits := e.Screen(tt.text)
			if tt.match == "" {
				if len(hits) != 0 {
					t.Fatalf("hits %+v, want none", hits)
				}
				return
			}
			if len(hits) != 1 || hits[0].Rule != "A.profanity" || hits[0].Match != tt.match {
				t.Fatalf("hits %+v, want A.profanity matching %q", hits, tt.match)
			}
		})
	}
}

// TestClean screens ordinary comments on a city's pages, including words
// that contain listed words (Scunthorpe, class, assessment) and everyday
// uses of words near the lists (bath bombs, weed control, "shoot you an
// email"). None may fire.
func TestClean(t *testing.T) {
	e := mustDefault(t)
	for _, text := range []string{
		"Great parade!",
		"When is trash pickup this week with the holiday?",
		"The class at the rec center was great",
		"Scunthorpe",
		"I assess the assessment",
		"Thanks to everyone who came out to Heritage Days",
		"Is the splash pad open yet?",
		"Love the new pickleball courts, thank you Clinton City",
		"What time do the fireworks start on the 24th?",
		"My kids loved the bomb pops and the bath bombs from the vendor booth",
		"Weed control along the canal trail would be appreciated",
		"I'll shoot you an email with the details",
		"Our classic car club meets at the park on Saturdays",
		"The passion and dedication of our firefighters is amazing",
		"Who do I talk to about a broken sprinkler in the park strip?",
		"Cocktail hour at the senior center? Count me in",
		"Reading Dickens with the kids this winter",
		"The shiitake mushrooms at the farmers market were amazing",
		"The city council voted 5-0 to approve the new budget",
		"Vote for your favorite float in the parade!",
		"Road closures on 1800 North 2000 West through Friday",
		"Prices shot up everywhere this year",
		"The storm left a torrent of water running down the street",
		"Where do I register for youth basketball?",
		"Hill's B-1 bomber flyover was incredible",
		"Please slow down in school zones, our kids are walking",
		"The library's assessment of the new branch is on page 3",
		"Congrats to the Clinton Elementary class of 2026!",
		"Harrison Assay Office history exhibit opens Monday",
		"Is there a password for the library wifi?",
		"Essex and Sussex are counties in England",
		"He is a great asset to the community",
		"My grandmother was born in 1942",
		"Spread the word: 5 new pickleball courts at 2000 West",
		"#ClintonCity @ClintonUtah 🎆🎆",
		"The meeting starts at 7:00 p.m. in room 101.",
	} {
		if hits := e.Screen(text); hits != nil {
			t.Errorf("Screen(%q) = %+v, want nil", text, hits)
		}
	}
}

// TestCityNumbersFire documents a known false positive: the city's own
// published phone number and address look like anyone's, so L fires on
// them. A city lists its own under the L rules' except.
func TestCityNumbersFire(t *testing.T) {
	const text = "Questions? Call the city office at (801) 555-0100 or stop by 2267 N 1500 W"
	e := mustDefault(t)
	if got := rulesOf(e.Screen(text)); !slices.Equal(got, []string{"L.address-grid", "L.phone"}) {
		t.Errorf("default rules: %v, want L.address-grid and L.phone", got)
	}
	own := mustLoad(t, `
version: test
rules:
  - id: L.phone
    category: L
    regexp: '(?:\+?1[\s.-]?)?(?:\([2-9]\d{2}\)\s?|\b[2-9]\d{2}[\s.-])[2-9]\d{2}[\s.-]\d{4}\b'
    except: ["801 555 0100"]
  - id: L.address-grid
    category: L
    regexp: '(?i)\b\d{2,5}\s+[nsew]\s+\d{1,5}\s+[nsew]\b'
    except: ["2267 N 1500 W"]
`)
	for _, text := range []string{text, "city: 801.555.0100", "city: +1 801-555-0100", "city: 2267 n 1500 w"} {
		if hits := own.Screen(text); hits != nil {
			t.Errorf("with the city's own listed: Screen(%q) = %+v, want nil", text, hits)
		}
	}
	if got := rulesOf(own.Screen("call 801-555-0101")); !slices.Equal(got, []string{"L.phone"}) {
		t.Errorf("another number: %v, want L.phone", got)
	}
}

// TestHeldOut screens testdata/heldout.tsv: sentences written apart from
// the rule lists, to see that the rules generalise rather than list the
// test sentences. Every clean line must stay clean; of the others, nearly
// all must fire their category (misses are logged).
func TestHeldOut(t *testing.T) {
	f, err := os.Open("testdata/heldout.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := mustDefault(t)
	var positives, found int
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		want, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("heldout.tsv:%d: no tab", line)
		}
		hits := e.Screen(text)
		if want == "-" {
			if hits != nil {
				t.Errorf("heldout.tsv:%d: clean text flagged: %q: %+v", line, text, hits)
			}
			continue
		}
		positives++
		if slices.ContainsFunc(hits, func(h Hit) bool { return h.Category == want }) {
			found++
		} else {
			t.Logf("heldout.tsv:%d: missed %s: %q (hits %+v)", line, want, text, hits)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	recall := float64(found) / float64(positives)
	t.Logf("held-out recall %d/%d = %.2f", found, positives, recall)
	if positives < 50 || recall < 0.9 {
		t.Errorf("held-out recall %d/%d = %.2f, want at least 0.90 of at least 50", found, positives, recall)
	}
}

// TestHitsSortedAndStable screens a comment that breaks several rules:
// one hit per rule, its first match, sorted by category then rule, the
// same every time.
func TestHitsSortedAndStable(t *testing.T) {
	e := mustDefault(t)
	const text = "Call me at 801-555-1234, you DAMN idiot. Vote for Jensen. Damn it, " +
		"I will kill the mayor. The mayor is corrupt. Another damn: 385-555-9876"
	want := []Hit{
		{"A", "A.profanity", "DAMN"},
		{"E", "E.vote-for", "Vote for Jensen"},
		{"J", "J.officials-are", "mayor is corrupt"},
		{"K", "K.threats", "I will kill"},
		{"L", "L.phone", "801-555-1234"},
	}
	for range 3 {
		if got := e.Screen(text); !reflect.DeepEqual(got, want) {
			t.Fatalf("Screen = %+v\nwant     %+v", got, want)
		}
	}
}

// TestMatchClipped checks that a long match is cut to MaxMatch bytes on a
// character boundary and stays a substring of the input.
func TestMatchClipped(t *testing.T) {
	e := mustLoad(t, `
version: test
rules:
  - id: D.long
    category: D
    regexp: 'buy[^!]*!'
`)
	text := "please buy " + strings.Repeat("é", 100) + "!"
	hits := e.Screen(text)
	if len(hits) != 1 {
		t.Fatalf("hits %+v", hits)
	}
	m := hits[0].Match
	if len(m) > MaxMatch || len(m) < MaxMatch-1 || !utf8.ValidString(m) || !strings.HasPrefix(m, "buy éé") || !strings.Contains(text, m) {
		t.Errorf("Match = %q (%d bytes), want the first %d bytes of the match, whole characters", m, len(m), MaxMatch)
	}
	// Invalid UTF-8 in the input: Match stops before it.
	hits = e.Screen("buy \xff now!")
	if len(hits) != 1 || hits[0].Match != "buy" {
		t.Errorf("invalid UTF-8: hits %+v, want Match %q", hits, "buy")
	}
}

// TestExcept checks that an exception cancels only the match it overlaps.
func TestExcept(t *testing.T) {
	e := mustLoad(t, `
version: test
rules:
  - id: K.bomb
    category: K
    words: [bomb]
    except: [bath bomb, bomb pop]
`)
	for text, want := range map[string]string{
		"a bath bomb":                      "",
		"BATH BOMB":                        "",
		"bomb pops for everyone":           "",
		"bath bombs":                       "", // the word's plural, the exception's too
		"a bath bomb and a bomb":           "bomb",
		"bomb":                             "bomb",
		"the bomb, then a bath bomb":       "bomb",
		"pop the bomb":                     "bomb",
		"b0mb":                             "b0mb",
		"a bath b0mb is still a bath bomb": "",
	} {
		hits := e.Screen(text)
		got := ""
		if len(hits) > 0 {
			got = hits[0].Match
		}
		if got != want {
			t.Errorf("Screen(%q): Match %q, want %q", text, got, want)
		}
	}
}

// TestConcurrentScreen screens from several goroutines at once (run with
// -race): the engine is shared, its scratch space is not.
func TestConcurrentScreen(t *testing.T) {
	e := mustDefault(t)
	texts := []string{
		"damn it", "Great parade!", "Call me at 801-555-1234", "I will kill you", "The mayor is corrupt",
		"4111 1111 1111 1111", "sh1t", "", "Vote for Jensen", "\xff\xfe bad bytes damn",
	}
	want := make([][]Hit, len(texts))
	for i, text := range texts {
		want[i] = e.Screen(text)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 200 {
				i := (g + n) % len(texts)
				if got := e.Screen(texts[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d: Screen(%q) = %+v, want %+v", g, texts[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestChecks(t *testing.T) {
	for s, want := range map[string]bool{
		"4111 1111 1111 1111": true, "4111-1111-1111-1112": false, "378282246310005": true,
		"4012888888881881": true, "1234567890123456": false, "0000000000000": true, "12345": false,
	} {
		if luhn(s) != want {
			t.Errorf("luhn(%q) = %v, want %v", s, !want, want)
		}
	}
	for s, want := range map[string]bool{
		"529-01-4432": true, "000-12-3456": false, "666-12-3456": false, "912-34-5678": false,
		"123-00-4567": false, "123-45-0000": false, "12345678": false,
	} {
		if ssn(s) != want {
			t.Errorf("ssn(%q) = %v, want %v", s, !want, want)
		}
	}
}

// TestNumbersNotFlagged keeps ordinary numbers out of L.
func TestNumbersNotFlagged(t *testing.T) {
	e := mustDefault(t)
	for _, text := range []string{
		"Invalid card 4111 1111 1111 1112",      // fails the Luhn check
		"Example SSN 000-12-3456 on the form",   // never issued
		"The budget is $12,345,678 this year",   // money
		"Population grew from 21,000 to 23,500", // counts
		"Meeting on 2026-03-15 at 6:30",         // dates
		"Order #123456 shipped",                 // short numbers
		"Read section 10-2-301 of the code",     // citations
		"The intersection of 1800 N 2000 W",     // a corner, not a home
	} {
		if hits := e.Screen(text); hits != nil {
			t.Errorf("Screen(%q) = %+v, want nil", text, hits)
		}
	}
}
