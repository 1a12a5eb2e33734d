//go:build race

package records_test

// raceDetector: the race detector slows the tests and inflates memory, so
// the heaviest tests shrink their data under it.
const raceDetector = true
