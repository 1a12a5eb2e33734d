// Package search is civicarchive's full-text index (bleve, scorch): one
// document per captured item holding the text of every version. Only this
// package imports bleve.
//
// The index follows the catalog: every item carries the custody seq of its
// latest change (storage.Item.ChangeSeq), and the index remembers, in the
// same bleve batch as the documents it wrote, the last seq it indexed (the
// watermark). CatchUp indexes what changed after the watermark; an index
// that missed changes (a crash, a restart, a new mapping) heals itself.
package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion changes whenever buildMapping or the document's fields
// change; an index built with another version is recreated on open (empty,
// watermark 0) and CatchUp refills it.
const MappingVersion = 2

var (
	mappingVersionKey = []byte("civicarchive.mapping_version")
	watermarkKey      = []byte("civicarchive.watermark")
)

const (
	defaultIndexName = "index.bleve" // the index directory under dir until a rebuild
	currentFile      = "CURRENT"     // names the index directory in use
)

// Index is the bleve index of captured items. Its methods are safe for
// concurrent use; one process opens the index for writing.
type Index struct {
	dir string
	log *slog.Logger

	// wmu serialises writers (CatchUp, the swap at the end of Rebuild).
	wmu sync.Mutex
	// mu guards idx and path: searches hold it shared for their whole run,
	// so the swap at the end of Rebuild never closes an index in use.
	mu     sync.RWMutex
	idx    bleve.Index
	path   string
	closed bool
}

// ErrBusy: another process (a running server) holds the index; only one
// process may open it.
var ErrBusy = errors.New("search: the index is in use by another process")

// Open opens the index under dir, creating it when missing and recreating it
// when its mapping version differs from MappingVersion. The second result is
// true when the index is new and empty (the caller runs CatchUp, which
// refills it from change seq 0).
func Open(dir string, log *slog.Logger) (*Index, bool, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, false, fmt.Errorf("search: create dir: %w", err)
	}
	name, err := currentName(dir)
	if err != nil {
		return nil, false, err
	}
	path := filepath.Join(dir, name)
	// Wait a little for the lock, never forever: another process holding the
	// index (a running server) is an answer, not a hang.
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": "2s"})
	if err != nil && strings.Contains(err.Error(), "timeout") {
		return nil, false, fmt.Errorf("%w: %s", ErrBusy, dir)
	}
	if err == nil || errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		// Only the holder of the index may clear what a crashed rebuild left.
		removeLeftovers(dir, name, log)
	}
	switch {
	case err == nil:
		raw, gerr := idx.GetInternal(mappingVersionKey)
		v, _ := strconv.Atoi(string(raw))
		if gerr == nil && v == MappingVersion {
			return &Index{dir: dir, log: log, idx: idx, path: path}, false, nil
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
	idx, err = newIndex(path)
	if err != nil {
		return nil, false, err
	}
	return &Index{dir: dir, log: log, idx: idx, path: path}, true, nil
}

// newIndex creates an empty index at path with the current mapping and
// mapping version.
func newIndex(path string) (bleve.Index, error) {
	idx, err := bleve.New(path, buildMapping())
	if err != nil {
		return nil, fmt.Errorf("search: create %s: %w", path, err)
	}
	if err := idx.SetInternal(mappingVersionKey, []byte(strconv.Itoa(MappingVersion))); err != nil {
		idx.Close()
		os.RemoveAll(path)
		return nil, fmt.Errorf("search: record mapping version: %w", err)
	}
	return idx, nil
}

// currentName reads which index directory is in use: the CURRENT file
// written by Rebuild, else the default name.
func currentName(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return defaultIndexName, nil
	}
	if err != nil {
		return "", fmt.Errorf("search: read %s: %w", currentFile, err)
	}
	name := strings.TrimSpace(string(b))
	if !isIndexDirName(name) {
		return "", fmt.Errorf("search: %s names %q, not an index directory", currentFile, name)
	}
	return name, nil
}

// setCurrent points CURRENT at name, atomically.
func setCurrent(dir, name string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	if err := os.WriteFile(tmp, []byte(name+"\n"), 0o640); err != nil {
		return fmt.Errorf("search: write %s: %w", currentFile, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, currentFile)); err != nil {
		return fmt.Errorf("search: replace %s: %w", currentFile, err)
	}
	return nil
}

// isIndexDirName reports whether name is one of the index directory names
// this package creates (and so may delete).
func isIndexDirName(name string) bool {
	return name == defaultIndexName ||
		(strings.HasPrefix(name, "index-") && strings.HasSuffix(name, ".bleve") && !strings.ContainsAny(name, `/\`))
}

// removeLeftovers deletes index directories other than the current one: a
// rebuild interrupted by a crash, or the old index of a finished one.
func removeLeftovers(dir, current string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != current && isIndexDirName(e.Name()) {
			log.Info("removing a stale search index directory", "dir", e.Name())
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				log.Warn("could not remove a stale search index directory", "dir", e.Name(), "err", err)
			}
		}
	}
}

// Field names of the index, for field:value queries and filters.
const (
	FieldText       = "text"        // current text (English, stemmed; stored for highlighting)
	FieldVersions   = "versions"    // every version's text, oldest first (English, stemmed; stored)
	FieldPlatform   = "platform"    // keyword, facet
	FieldAccount    = "account"     // account id in decimal; keyword, facet
	FieldDepartment = "department"  // the account's department; keyword
	FieldKind       = "kind"        // post, comment, reply; keyword, facet
	FieldAuthor     = "author"      // author name and author id, each exact; keyword
	FieldNativeID   = "native_id"   // the platform's id; keyword
	FieldFlag       = "flag"        // policy category letters A–L; keyword, facet
	FieldCreatedAt  = "created_at"  // platform created time, else first seen; datetime, sort
	FieldCapturedAt = "captured_at" // capture time of every version; datetime
	FieldDeletedAt  = "deleted_at"  // when the deletion was detected; datetime
	FieldDeleted    = "deleted"     // boolean
	FieldEdited     = "edited"      // more than one version; boolean
	FieldHidden     = "hidden"      // hidden on the platform; boolean
	FieldMonth      = "month"       // YYYY-MM of created_at in UTC; keyword, facet
)

// fieldKinds is every mapped field and its type; a query naming any other
// field is refused.
var fieldKinds = map[string]string{
	FieldText: "text", FieldVersions: "text",
	FieldPlatform: "keyword", FieldAccount: "keyword", FieldDepartment: "keyword", FieldKind: "keyword",
	FieldAuthor: "keyword", FieldNativeID: "keyword", FieldFlag: "keyword", FieldMonth: "keyword",
	FieldCreatedAt: "datetime", FieldCapturedAt: "datetime", FieldDeletedAt: "datetime",
	FieldDeleted: "boolean", FieldEdited: "boolean", FieldHidden: "boolean",
}

// buildMapping is the explicit mapping: no dynamic fields and no _all
// field, English stemming (textAnalyzerName) for text, keywords for ids and enums, dates for
// ranges and sorting. Only the two text fields are stored, with term
// vectors, because highlighting reads them; doc values only on the sort
// and facet fields.
func buildMapping() mapping.IndexMapping {
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = textAnalyzerName
		f.Store = true              // highlighting reads the text back
		f.IncludeTermVectors = true // phrases and highlighting need positions
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	date := func(docValues bool) *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = docValues
		return f
	}
	boolean := func() *mapping.FieldMapping {
		f := bleve.NewBooleanFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}

	item := bleve.NewDocumentStaticMapping()
	item.AddFieldMappingsAt(FieldText, text())
	item.AddFieldMappingsAt(FieldVersions, text())
	for _, f := range []string{FieldPlatform, FieldAccount, FieldKind, FieldFlag, FieldMonth} {
		item.AddFieldMappingsAt(f, kw(true)) // facets
	}
	for _, f := range []string{FieldDepartment, FieldAuthor, FieldNativeID} {
		item.AddFieldMappingsAt(f, kw(false))
	}
	item.AddFieldMappingsAt(FieldCreatedAt, date(true)) // sort
	item.AddFieldMappingsAt(FieldCapturedAt, date(false))
	item.AddFieldMappingsAt(FieldDeletedAt, date(false))
	for _, f := range []string{FieldDeleted, FieldEdited, FieldHidden} {
		item.AddFieldMappingsAt(f, boolean())
	}

	m := bleve.NewIndexMapping()
	m.DefaultMapping = item
	m.DefaultAnalyzer = textAnalyzerName
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	m.ScoringModel = "bm25"
	return m
}

// Check is the readiness probe: the index answers a document count.
func (x *Index) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := x.DocCount(); err != nil {
		return fmt.Errorf("search: index: %w", err)
	}
	return nil
}

// DocCount is the number of indexed items.
func (x *Index) DocCount() (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.idx.DocCount()
}

// Watermark is the change seq of the last catalog change indexed: every
// item whose ChangeSeq is at most this is in the index as of that change.
func (x *Index) Watermark() (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return watermark(x.idx)
}

func watermark(idx bleve.Index) (uint64, error) {
	raw, err := idx.GetInternal(watermarkKey)
	if err != nil {
		return 0, fmt.Errorf("search: read watermark: %w", err)
	}
	if len(raw) == 0 {
		return 0, nil
	}
	w, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("search: watermark %q: %w", raw, err)
	}
	return w, nil
}

// Close flushes and closes the index. Only one process may hold it open.
// Closing twice is harmless.
func (x *Index) Close() error {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	return x.idx.Close()
}
