package bluesky

// SetThreadDepth changes the depth asked of getPostThread and returns a
// function restoring it.
func SetThreadDepth(n int) func() {
	old := threadDepth
	threadDepth = n
	return func() { threadDepth = old }
}
