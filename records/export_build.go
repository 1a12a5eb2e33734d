package records

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/records/bagit"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// exportChunk is how many items the builder loads from the catalog at once:
// memory holds one chunk's rows, never the whole export's.
const exportChunk = 500

// exportJob is one bundle being built. Besides one chunk of rows it keeps
// only the exported items' thread places (24 bytes each), the
// SHA-256s of the raw pages and media already written, and what the bagit
// writer keeps per file (a manifest line).
type exportJob struct {
	o        *Office
	e        *storage.Export
	refs     []itemRef // sorted by thread: sortRefs
	accounts map[uint64]storage.Account
	raws     map[[32]byte]uint8 // raw page SHA-256 → its extension (fileExts index)
	media    map[[32]byte]uint8 // media SHA-256 → its extension
	b        *bagit.Writer
	peek     *bufio.Reader // reused to sniff raw pages
	tracking string        // the records request's tracking number
	window   string        // Capture-Window: "START/END", or ""
}

// buildExport writes the bundle of the items ids into the blob store and
// marks the export ready with its custody event.
func (o *Office) buildExport(ctx context.Context, e *storage.Export, s ExportScope, ids []uint64) (*storage.Export, error) {
	catRefs, err := o.cat.ItemRefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	refs := compactRefs(catRefs)
	sortRefs(refs)
	accounts, err := o.cat.AccountsByID(ctx)
	if err != nil {
		return nil, err
	}
	j := &exportJob{o: o, e: e, refs: refs, accounts: accounts, raws: map[[32]byte]uint8{}, media: map[[32]byte]uint8{},
		peek: bufio.NewReaderSize(nil, 4096)}
	if err := j.prepare(ctx); err != nil {
		return nil, err
	}
	ref, err := j.store(ctx)
	if err != nil {
		return nil, err
	}
	details := map[string]any{"sha256": ref.SHA256, "size": ref.Size, "items": len(refs), "matter": e.Matter,
		"query": e.Query, "kind": e.Kind, "bundle_key": ref.Key}
	if e.HoldID != nil {
		details["hold_id"] = *e.HoldID
	}
	if j.tracking != "" {
		details["records_request"] = j.tracking
	}
	done, err := o.cat.FinishExport(ctx, e.ID, storage.ExportBundle{Key: ref.Key, SHA256: ref.SHA256, Size: ref.Size, Items: len(refs)},
		storage.NewEvent{Kind: "export", Actor: e.CreatedBy, SubjectType: "export", SubjectID: fmt.Sprint(e.ID), Details: details})
	if err != nil {
		return nil, fmt.Errorf("records: export: %w", err)
	}
	return done, nil
}

// prepare reads what bag-info.txt names besides the items: the request's
// tracking number and the capture window.
func (j *exportJob) prepare(ctx context.Context) error {
	if j.e.RequestID != nil {
		r, err := j.o.cat.RequestByID(ctx, *j.e.RequestID)
		if err != nil {
			return err
		}
		j.tracking = r.TrackingNumber
	}
	first, last, err := j.o.cat.CaptureWindow(ctx, exportIDs(j.refs))
	if err != nil {
		return err
	}
	if first != nil {
		j.window = first.Format(time.RFC3339) + "/" + last.Format(time.RFC3339)
	}
	return nil
}

// store streams the bag's ZIP into the blob store while it is written.
func (j *exportJob) store(ctx context.Context) (blob.Ref, error) {
	pr, pw := io.Pipe()
	wrote := make(chan error, 1)
	go func() {
		err := j.writeBag(ctx, pw)
		pw.CloseWithError(err)
		wrote <- err
	}()
	ref, _, perr := j.o.cfg.Blobs.Put(ctx, pr)
	pr.CloseWithError(perr) // a failed Put stops the writer
	werr := <-wrote
	switch {
	case werr != nil && (perr == nil || !errors.Is(werr, io.ErrClosedPipe)):
		return blob.Ref{}, werr
	case perr != nil:
		return blob.Ref{}, fmt.Errorf("records: export: store bundle: %w", perr)
	}
	return ref, nil
}

// bagDir is the bag's top folder in the ZIP.
func (j *exportJob) bagDir() string { return fmt.Sprintf("export-%d", j.e.ID) }

// software names the program in bag-info.txt.
func (j *exportJob) software() string {
	if v := strings.TrimSpace(j.o.cfg.Version); v != "" {
		return "civicarchive " + oneLine(v)
	}
	return "civicarchive"
}

// bagInfo is the bag-info.txt fields before those the bagit writer adds.
func (j *exportJob) bagInfo() []bagit.Field {
	query := "items"
	if j.e.Kind == ExportSearch {
		query = j.e.Query
	}
	fields := []bagit.Field{
		{Label: "Source-Organization", Value: oneLine(j.o.cfg.Entity.Name)},
		{Label: "External-Identifier", Value: j.bagDir()},
		{Label: "External-Description", Value: fmt.Sprintf("Litigation export %d: %d items of the official social media of %s, "+
			"with every captured version, the raw platform responses, media, renderings and chain of custody",
			j.e.ID, len(j.refs), oneLine(j.o.cfg.Entity.Name))},
		{Label: "Export-Scope", Value: j.e.Kind},
		{Label: "Export-Query", Value: query},
	}
	if j.e.HoldID != nil {
		fields = append(fields, bagit.Field{Label: "Legal-Hold-ID", Value: fmt.Sprint(*j.e.HoldID)})
	}
	if j.tracking != "" {
		fields = append(fields, bagit.Field{Label: "Records-Request", Value: j.tracking})
	}
	if j.e.Matter != "" {
		fields = append(fields, bagit.Field{Label: "Matter", Value: oneLine(j.e.Matter)})
	}
	fields = append(fields, bagit.Field{Label: "Export-Software", Value: j.software()},
		bagit.Field{Label: "Exported-By", Value: oneLine(j.e.CreatedBy)},
		bagit.Field{Label: "Item-Count", Value: fmt.Sprint(len(j.refs))})
	if j.window != "" {
		fields = append(fields, bagit.Field{Label: "Capture-Window", Value: j.window})
	}
	return fields
}

// writeBag writes the whole bag to w: the payload files first (the long
// part, which the progress counts), then the files made from the catalog.
func (j *exportJob) writeBag(ctx context.Context, w io.Writer) error {
	j.b = bagit.NewWriter(w, bagit.Options{Dir: j.bagDir(), Modified: j.o.cfg.Now().UTC().Truncate(time.Second),
		Software: j.software(), Info: j.bagInfo()})
	steps := []func(context.Context) error{j.writeNative, j.writeRendered, j.writeItemsCSV, j.writeLoadFile, j.writeCustody, j.writeReadme}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return j.b.Close()
}

// eachChunk calls fn on the exported items in chunks of exportChunk, in
// bundle order, stopping when ctx ends.
func (j *exportJob) eachChunk(ctx context.Context, fn func(part []itemRef) error) error {
	for i := 0; i < len(j.refs); i += exportChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(j.refs[i:min(i+exportChunk, len(j.refs))]); err != nil {
			return err
		}
	}
	return nil
}

// writeNative writes every version's normalised JSON, each raw platform
// page once and each media file once, recording progress as it goes.
func (j *exportJob) writeNative(ctx context.Context) error {
	done := 0
	return j.eachChunk(ctx, func(part []itemRef) error {
		ids := exportIDs(part)
		versions, err := j.o.cat.VersionsOf(ctx, ids)
		if err != nil {
			return err
		}
		media, err := j.o.cat.MediaOf(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			for _, v := range versions[id] {
				if err := j.copyBlob(ctx, normalizedPath(v), v.NormalizedKey); err != nil {
					return err
				}
				if err := j.copyRaw(ctx, v.RawKey); err != nil {
					return err
				}
			}
			for _, m := range media[id] {
				if err := j.copyMedia(ctx, m); err != nil {
					return err
				}
			}
		}
		done += len(part)
		return j.o.cat.ExportProgress(ctx, j.e.ID, done, -1)
	})
}

// copyBlob copies one blob into the payload at p.
func (j *exportJob) copyBlob(ctx context.Context, p, key string) error {
	rc, err := j.o.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return blobError(key, err)
	}
	defer rc.Close()
	if _, _, err := j.b.Add(p, rc); err != nil {
		return blobError(key, err)
	}
	return nil
}

// copyRaw copies a raw platform page, unless an earlier version's page was
// the same, naming it by its SHA-256 with an extension sniffed from it.
func (j *exportJob) copyRaw(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	sum, err := keySum(key)
	if err != nil {
		return err
	}
	if _, ok := j.raws[sum]; ok {
		return nil
	}
	rc, err := j.o.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return blobError(key, err)
	}
	defer rc.Close()
	j.peek.Reset(rc)
	ext := sniffExt(j.peek)
	if _, _, err := j.b.Add("native/raw/"+hex.EncodeToString(sum[:])+fileExts[ext], j.peek); err != nil {
		return blobError(key, err)
	}
	j.peek.Reset(nil)
	j.raws[sum] = ext
	return nil
}

// copyMedia copies a media file once, named by its SHA-256.
func (j *exportJob) copyMedia(ctx context.Context, m storage.Media) error {
	sum, err := keySum(m.BlobKey)
	if err != nil {
		return err
	}
	if _, ok := j.media[sum]; ok {
		return nil
	}
	ext := mediaExtCode(m.ContentType)
	if err := j.copyBlob(ctx, "media/"+hex.EncodeToString(sum[:])+fileExts[ext], m.BlobKey); err != nil {
		return err
	}
	j.media[sum] = ext
	return nil
}

// rawPath is where a version's raw page is in the payload, "" if nowhere.
func (j *exportJob) rawPath(key string) string {
	sum, err := keySum(key)
	if err != nil {
		return ""
	}
	ext, ok := j.raws[sum]
	if !ok {
		return ""
	}
	return "native/raw/" + hex.EncodeToString(sum[:]) + fileExts[ext]
}

// mediaPath is where a media file is in the payload, "" if nowhere.
func (j *exportJob) mediaPath(m storage.Media) string {
	sum, err := keySum(m.BlobKey)
	if err != nil {
		return ""
	}
	ext, ok := j.media[sum]
	if !ok {
		return ""
	}
	return "media/" + hex.EncodeToString(sum[:]) + fileExts[ext]
}

// normalizedPath is where a version's normalised JSON is in the payload.
func normalizedPath(v storage.Version) string {
	return fmt.Sprintf("native/normalized/%d/v%d.json", v.ItemID, v.Seq)
}

// keySum is the SHA-256 a blob key names.
func keySum(key string) ([32]byte, error) {
	var sum [32]byte
	hexsum, err := blob.ParseKey(key)
	if err == nil {
		_, err = hex.Decode(sum[:], []byte(hexsum))
	}
	if err != nil {
		return sum, &exportError{"the catalog names a blob key that is not valid: " + key, err}
	}
	return sum, nil
}

// blobError says which stored file failed, for a failure worth showing.
func blobError(key string, err error) error {
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return &exportError{"a stored file is missing from the blob store: " + key, err}
	case errors.Is(err, blob.ErrCorrupt):
		return &exportError{"a stored file does not match its SHA-256 (it is corrupt): " + key, err}
	}
	return err
}

// fileExts are the extensions payload files get; raws and media keep an
// index into it.
var fileExts = []string{"", ".json", ".xml", ".txt", ".jpg", ".png", ".gif", ".webp", ".avif", ".heic",
	".mp4", ".mov", ".webm", ".mp3", ".m4a", ".pdf"}

// Indexes into fileExts that sniffExt returns.
const (
	extJSON uint8 = 1
	extXML  uint8 = 2
	extTxt  uint8 = 3
)

// sniffExt names a raw platform page's type from its first non-space
// byte: JSON ({ or [) is what the APIs answer, XML (<) what feeds do;
// anything else is text. It does not consume r.
func sniffExt(r *bufio.Reader) uint8 {
	head, _ := r.Peek(512)
	head = []byte(strings.TrimPrefix(string(head), "\uFEFF"))
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return extJSON
		case '<':
			return extXML
		}
		return extTxt
	}
	return extTxt
}

// mediaExts are the extensions of the media types people open most.
var mediaExts = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"image/avif": ".avif", "image/heic": ".heic", "video/mp4": ".mp4", "video/quicktime": ".mov",
	"video/webm": ".webm", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "application/pdf": ".pdf",
}

// mediaExtCode names a media file's extension from its content type, for
// people who open the bag; the SHA-256 before it is the identity.
func mediaExtCode(contentType string) uint8 {
	ct, _, _ := strings.Cut(contentType, ";")
	ext := mediaExts[strings.ToLower(strings.TrimSpace(ct))]
	for i, e := range fileExts {
		if e == ext {
			return uint8(i)
		}
	}
	return 0
}

// addGenerated adds the payload file p, streaming what gen writes into it.
// gen runs in its own goroutine and must not touch the bagit writer.
func (j *exportJob) addGenerated(p string, gen func(w *bufio.Writer) error) error {
	pr, pw := io.Pipe()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		bw := bufio.NewWriterSize(pw, 64<<10)
		err := gen(bw)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	_, _, err := j.b.Add(p, pr)
	pr.CloseWithError(err) // a failed Add stops gen
	<-finished
	return err
}
