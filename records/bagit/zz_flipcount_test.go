package bagit_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/civicarchive/civicarchive/records/bagit"
)

func TestZZFlipCount(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	blob := make([]byte, 600)
	for i := range blob {
		blob[i] = byte(rnd.IntN(256))
	}
	var js strings.Builder
	for i := range 40 {
		js.WriteString(`{"id":` + string(rune('0'+i%10)) + `,"text":"Council meeting moved to Tuesday","likes":12}` + "\n")
	}
	files := append(append([]file{}, sampleFiles...), file{"blob.bin", string(blob)}, file{"posts.jsonl", js.String()}, file{"aaaa.txt", strings.Repeat("a", 3000)})
	good := mustBag(t, sampleOptions(), files)
	accepted := 0
	var offs []int
	hist := map[string]int{}
	re := regexp.MustCompile(`[0-9a-f]{8,}|\d+|"[^"]*"`)
	for i := range good {
		for _, m := range []byte{0x01, 0x80} {
			b := bytes.Clone(good)
			b[i] ^= m
			_, err := bagit.Verify(bytes.NewReader(b), int64(len(b)))
			var p *bagit.Problem
			if !errors.As(err, &p) {
				accepted++
				offs = append(offs, i)
				continue
			}
			msg := p.Kind + ": " + re.ReplaceAllString(p.Msg, "N")
			hist[msg]++
		}
	}
	var keys []string
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return hist[keys[i]] > hist[keys[j]] })
	for _, k := range keys {
		t.Logf("%5d %s", hist[k], k)
	}
	t.Logf("size %d, flips %d, accepted %d; first %v", len(good), 2*len(good), accepted, offs[:min(20, len(offs))])
}
