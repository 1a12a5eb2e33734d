package search

import (
	"strconv"
	"testing"
)

func TestOpenCreatesAndReopens(t *testing.T) {
	dir := t.TempDir()
	x, fresh, err := Open(dir, nil)
	if err != nil || !fresh {
		t.Fatalf("first open: fresh=%v err=%v; want a new index", fresh, err)
	}
	if err := x.idx.Index("item-1", map[string]any{"text": "Road closures downtown", "platform": "mastodon"}); err != nil {
		t.Fatal(err)
	}
	x.Close()
	x, fresh, err = Open(dir, nil)
	if err != nil || fresh {
		t.Fatalf("reopen: fresh=%v err=%v; want the existing index", fresh, err)
	}
	defer x.Close()
	if n, _ := x.DocCount(); n != 1 {
		t.Fatalf("doc count after reopen = %d; want 1", n)
	}
}

func TestMappingVersionChangeRebuilds(t *testing.T) {
	dir := t.TempDir()
	x, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.idx.Index("item-1", map[string]any{"text": "old"})
	x.idx.SetInternal(mappingVersionKey, []byte(strconv.Itoa(MappingVersion-1)))
	x.Close()
	x, fresh, err := Open(dir, nil)
	if err != nil || !fresh {
		t.Fatalf("open with old mapping: fresh=%v err=%v; want a rebuilt index", fresh, err)
	}
	defer x.Close()
	if n, _ := x.DocCount(); n != 0 {
		t.Fatalf("rebuilt index holds %d docs; want 0 until reindexed", n)
	}
}
