package screening_test

import (
	"fmt"

	"github.com/civicarchive/civicarchive/screening"
)

func ExampleEngine_Screen() {
	e := screening.Default()
	for _, h := range e.Screen("This d*mn road! Call me at (801) 555-1234.") {
		fmt.Printf("%s %s (%s): %q\n", h.Category, screening.CategoryName(h.Category), h.Rule, h.Match)
	}
	fmt.Println(e.Screen("Great parade!") == nil)
	// Output:
	// A Profanity (A.profanity): "d*mn"
	// L Confidential information (L.phone): "(801) 555-1234"
	// true
}
