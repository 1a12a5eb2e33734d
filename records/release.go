package records

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// releaseRef is a release bundle in the blob store and what it holds.
type releaseRef struct {
	blob.Ref
	Count    int
	Listing  []string // one line per released record, for the letter
	Withheld []string // one line per withheld record
}

// bagWriter writes a BagIt 1.0 bag (RFC 8493) into a ZIP, hashing each
// payload file as it streams, so memory stays flat.
type bagWriter struct {
	zw       *zip.Writer
	modified time.Time
	manifest []string
	oxBytes  int64
	oxFiles  int
}

func (b *bagWriter) file(name string, method uint16, src io.Reader) (string, error) {
	w, err := b.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: b.modified})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if strings.HasPrefix(name, "data/") {
		b.manifest = append(b.manifest, sum+"  "+name)
		b.oxBytes += n
		b.oxFiles++
	}
	return sum, nil
}

// buildRelease writes the release bundle of a request's attached versions,
// leaving out the withheld ones, and returns its reference. Only the
// normalised record of each version and its media go in: raw platform
// pages can hold other records, withheld ones among them.
func (o *Office) buildRelease(ctx context.Context, r *storage.Request, attached []storage.RequestItem, withheld []uint64) (*releaseRef, error) {
	var vids []uint64
	for _, a := range attached {
		vids = append(vids, a.VersionID)
	}
	versions, err := o.cat.VersionsByIDs(ctx, vids)
	if err != nil {
		return nil, err
	}
	ref := &releaseRef{}
	var released []storage.Version
	for _, a := range attached {
		v, ok := versions[a.VersionID]
		if !ok {
			return nil, fmt.Errorf("records: release: version %d is missing", a.VersionID)
		}
		line := fmt.Sprintf("%s %s %s, item %d version %d (captured %s)", v.Item.Platform, v.Item.Kind,
			v.Item.NativeID, v.ItemID, v.Seq, v.CapturedAt.UTC().Format(time.RFC3339))
		if slices.Contains(withheld, a.ID) {
			ref.Withheld = append(ref.Withheld, line)
			continue
		}
		ref.Listing = append(ref.Listing, line)
		released = append(released, v)
	}
	sort.Slice(released, func(i, j int) bool { return released[i].ID < released[j].ID })
	ref.Count = len(released)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(o.writeBag(ctx, pw, r, released)) }()
	br, _, err := o.cfg.Blobs.Put(ctx, pr)
	pr.CloseWithError(err)
	if err != nil {
		return nil, fmt.Errorf("records: release bundle: %w", err)
	}
	ref.Ref = br
	return ref, nil
}

// writeBag streams the bag's ZIP to w.
func (o *Office) writeBag(ctx context.Context, w io.Writer, r *storage.Request, versions []storage.Version) error {
	b := &bagWriter{zw: zip.NewWriter(w), modified: o.cfg.Now().UTC().Truncate(time.Second)}
	if _, err := b.file("bagit.txt", zip.Deflate, strings.NewReader("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")); err != nil {
		return err
	}
	if _, err := b.file("data/README.txt", zip.Deflate, strings.NewReader(o.releaseReadme(r))); err != nil {
		return err
	}
	if err := o.writeItemsCSV(b, versions); err != nil {
		return err
	}
	// Two released versions of one item share its media: each file goes in
	// once (a ZIP entry, and a manifest line, per path).
	written := map[string]bool{}
	for _, v := range versions {
		if err := o.copyBlob(ctx, b, fmt.Sprintf("data/items/%d/v%d.json", v.ItemID, v.Seq), v.NormalizedKey, zip.Deflate); err != nil {
			return err
		}
		media, err := o.cat.ItemMedia(ctx, v.ItemID)
		if err != nil {
			return err
		}
		for _, m := range media {
			if m.VersionID != nil && *m.VersionID > v.ID {
				continue // attached after this version
			}
			name := fmt.Sprintf("data/items/%d/media/%s%s", v.ItemID, m.SHA256, mediaExt(m.ContentType))
			if written[name] {
				continue
			}
			written[name] = true
			if err := o.copyBlob(ctx, b, name, m.BlobKey, zip.Store); err != nil {
				return err
			}
		}
	}
	return b.finish(r, o.cfg.Entity.Name)
}

func (o *Office) copyBlob(ctx context.Context, b *bagWriter, name, key string, method uint16) error {
	rc, err := o.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("records: release: %s: %w", name, err)
	}
	defer rc.Close()
	_, err = b.file(name, method, rc)
	return err
}

func (o *Office) writeItemsCSV(b *bagWriter, versions []storage.Version) error {
	pr, pw := io.Pipe()
	go func() {
		cw := csv.NewWriter(pw)
		cw.Write([]string{"item_id", "platform", "account", "native_id", "kind", "parent_native_id", "author", "url",
			"created_at", "deleted_at", "version", "version_sha256", "captured_at", "text"})
		for _, v := range versions {
			it := v.Item
			cw.Write([]string{fmt.Sprint(it.ID), it.Platform, it.Account.Handle, it.NativeID, it.Kind, it.ParentNativeID,
				it.AuthorName, it.URL, timeText(it.PlatformCreatedAt), timeText(it.DeletedAt), fmt.Sprint(v.Seq), v.SHA256,
				v.CapturedAt.UTC().Format(time.RFC3339), v.Text})
		}
		cw.Flush()
		pw.CloseWithError(cw.Error())
	}()
	_, err := b.file("data/items.csv", zip.Deflate, pr)
	pr.CloseWithError(err)
	return err
}

// finish writes the manifests and bag-info and closes the ZIP.
func (b *bagWriter) finish(r *storage.Request, entity string) error {
	manifest := strings.Join(b.manifest, "\n") + "\n"
	info := fmt.Sprintf("Source-Organization: %s\nExternal-Identifier: %s\nExternal-Description: Records released in response to records request %s\nBagging-Date: %s\nPayload-Oxum: %d.%d\n",
		oneLine(entity), r.TrackingNumber, r.TrackingNumber, b.modified.Format("2006-01-02"), b.oxBytes, b.oxFiles)
	var tags []string
	for _, f := range []struct{ name, body string }{{"manifest-sha256.txt", manifest}, {"bag-info.txt", info}} {
		sum, err := b.file(f.name, zip.Deflate, strings.NewReader(f.body))
		if err != nil {
			return err
		}
		tags = append(tags, sum+"  "+f.name)
	}
	bagit := sha256.Sum256([]byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"))
	tags = append(tags, hex.EncodeToString(bagit[:])+"  bagit.txt")
	if _, err := b.file("tagmanifest-sha256.txt", zip.Deflate, strings.NewReader(strings.Join(tags, "\n")+"\n")); err != nil {
		return err
	}
	return b.zw.Close()
}

func (o *Office) releaseReadme(r *storage.Request) string {
	return fmt.Sprintf(`Records released by %s in response to records request %s.

This ZIP is a BagIt bag (RFC 8493). data/items.csv lists every record with
the version released; data/items/ITEM/vN.json is that version as captured
(text, author, dates, attachments), and data/items/ITEM/media/ holds its
attachments, named by their SHA-256.

To check that nothing was changed, unzip the file and, in its top folder, run:

    sha256sum -c manifest-sha256.txt
    sha256sum -c tagmanifest-sha256.txt

Every line must say OK.
`, oneLine(o.cfg.Entity.Name), r.TrackingNumber)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// mediaExt names a media file's extension from its type, for people who
// open the bag; the SHA-256 before it is the identity.
func mediaExt(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	switch strings.TrimSpace(ct) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "video/mp4":
		return ".mp4"
	case "application/pdf":
		return ".pdf"
	}
	return path.Ext("")
}
