// Package search is civicarchive's full-text index (bleve, scorch): one
// document per captured item holding the text of every version. Only this
// package imports bleve.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion changes whenever buildMapping changes; an index built with
// another version is rebuilt on open.
const MappingVersion = 1

var mappingVersionKey = []byte("civicarchive.mapping_version")

// Index is the bleve index of captured items.
type Index struct {
	idx  bleve.Index
	path string
	log  *slog.Logger
}

// Open opens the index under dir, creating it when missing and recreating it
// when its mapping version differs from MappingVersion. The second result is
// true when the index is new and empty (the caller reindexes).
func Open(dir string, log *slog.Logger) (*Index, bool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, "index.bleve")
	idx, err := bleve.Open(path)
	switch {
	case err == nil:
		raw, gerr := idx.GetInternal(mappingVersionKey)
		v, _ := strconv.Atoi(string(raw))
		if gerr == nil && v == MappingVersion {
			return &Index{idx: idx, path: path, log: log}, false, nil
		}
		log.Warn("search index mapping changed; rebuilding", "index_version", string(raw), "want_version", MappingVersion)
		idx.Close()
		if err := os.RemoveAll(path); err != nil {
			return nil, false, fmt.Errorf("search: remove old index: %w", err)
		}
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
	default:
		return nil, false, fmt.Errorf("search: open %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, false, fmt.Errorf("search: create dir: %w", err)
	}
	idx, err = bleve.New(path, buildMapping())
	if err != nil {
		return nil, false, fmt.Errorf("search: create %s: %w", path, err)
	}
	if err := idx.SetInternal(mappingVersionKey, []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		return nil, false, fmt.Errorf("search: record mapping version: %w", err)
	}
	return &Index{idx: idx, path: path, log: log}, true, nil
}

// buildMapping is the explicit mapping: no dynamic fields, English stemming
// for text, keywords for ids and enums, dates for ranges and sorting.
func buildMapping() mapping.IndexMapping {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = en.AnalyzerName
	text.Store = true
	text.IncludeTermVectors = true // highlighting needs term positions

	kw := bleve.NewKeywordFieldMapping()
	kw.Analyzer = keyword.Name
	kw.DocValues = true // facets and sorting

	date := bleve.NewDateTimeFieldMapping()
	date.DocValues = true

	flag := bleve.NewBooleanFieldMapping()
	flag.DocValues = true

	item := bleve.NewDocumentStaticMapping()
	item.AddFieldMappingsAt("text", text)
	item.AddFieldMappingsAt("versions", text)
	for _, f := range []string{"platform", "account", "department", "kind", "author", "native_id", "flag"} {
		item.AddFieldMappingsAt(f, kw)
	}
	for _, f := range []string{"created_at", "captured_at", "deleted_at"} {
		item.AddFieldMappingsAt(f, date)
	}
	for _, f := range []string{"deleted", "edited", "hidden"} {
		item.AddFieldMappingsAt(f, flag)
	}

	m := bleve.NewIndexMapping()
	m.DefaultMapping = item
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}

// Check is the readiness probe: the index answers a document count.
func (x *Index) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := x.idx.DocCount(); err != nil {
		return fmt.Errorf("search: index: %w", err)
	}
	return nil
}

// DocCount is the number of indexed items.
func (x *Index) DocCount() (uint64, error) { return x.idx.DocCount() }

// Close flushes and closes the index. Only one process may hold it open.
func (x *Index) Close() error { return x.idx.Close() }
