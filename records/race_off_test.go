//go:build !race

package records_test

// raceDetector: see race_on_test.go.
const raceDetector = false
