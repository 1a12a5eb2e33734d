package screening

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// comments generates n comments of 20 to 300 characters as a city's pages
// get them: ordinary civic chatter, with one in twenty (5%) carrying
// something a rule should flag. The same n gives the same comments.
func comments(n int) []string {
	clean := []string{
		"Thanks to the crews for clearing the snow so fast this morning.",
		"When is green waste pickup starting again this spring?",
		"The class at the rec center was great, my kids loved it.",
		"Is the splash pad at Clinton Park open on Sundays?",
		"Great parade! The floats were better than ever this year.",
		"Who do I call about a street light that's out on 1800 North?",
		"Please slow down in the school zones, the kids are walking.",
		"Any update on the road construction on 2000 West?",
		"Love the new pickleball courts, thank you Clinton City.",
		"What time does the council meeting start on Tuesday?",
		"The fireworks at Heritage Days were amazing 🎆",
		"Can we get a crosswalk near the elementary school?",
		"My water bill seems high this month, who should I ask?",
		"The library story time is the best thing in town.",
		"Is there a permit needed for a backyard shed?",
		"Our neighborhood would love more trees along the trail.",
		"The snowplow missed our cul-de-sac again.",
		"Congrats to the Clinton Elementary class of 2026!",
		"Where can I find the agenda and the minutes?",
		"Thank you police and fire for keeping us safe.",
		"How do I reserve the pavilion for a birthday party?",
		"Are dogs allowed on the Canal Trail if they're leashed?",
		"Road closures posted yet for the 24th of July?",
		"I appreciate the quick response from public works.",
	}
	bad := []string{
		"This damn road is a joke.",
		"sh1t service as usual",
		"Call me at (801) 555-1234 about it.",
		"I will kill whoever keeps hitting my mailbox.",
		"The mayor is corrupt and everyone knows it.",
		"DM me for prices on lawn care!",
		"Vote for Jensen this November.",
		"Go back to your country.",
		"The door code is 4321 btw.",
		"She lives at 4567 North 200 East.",
	}
	rng := rand.New(rand.NewPCG(7, 2026))
	out := make([]string, n)
	for i := range out {
		target := 20 + rng.IntN(281)
		var b strings.Builder
		flag := i%20 == 7
		if flag {
			b.WriteString(bad[rng.IntN(len(bad))])
		}
		for b.Len() < target {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(clean[rng.IntN(len(clean))])
		}
		s := b.String()
		if len(s) > target && !flag {
			s = s[:strings.LastIndexByte(s[:target], ' ')+1]
		}
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// BenchmarkScreen screens 1,000 realistic comments over and over and
// reports comments per second. Target: 50,000 items/s on one core
// (go test -run '^$' -bench . -cpu 1 ./screening).
func BenchmarkScreen(b *testing.B) {
	e := mustDefault(b)
	items := comments(1000)
	var flagged, bytes int
	for _, c := range items {
		bytes += len(c)
		if e.Screen(c) != nil {
			flagged++
		}
	}
	b.SetBytes(int64(bytes / len(items)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		e.Screen(items[n%len(items)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(100*float64(flagged)/float64(len(items)), "%flagged")
}

// BenchmarkLoad compiles the default rules, as the program does at start.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		mustDefault(b)
	}
}
