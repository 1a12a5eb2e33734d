package records

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/records/bagit"
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

// writeBag streams the bag's ZIP to w: one top folder named after the
// request, holding a BagIt 1.0 bag.
func (o *Office) writeBag(ctx context.Context, w io.Writer, r *storage.Request, versions []storage.Version) error {
	modified := o.cfg.Now().UTC().Truncate(time.Second)
	b := bagit.NewWriter(w, bagit.Options{Dir: r.TrackingNumber, Modified: modified, Software: "civicarchive",
		Info: []bagit.Field{
			{Label: "Source-Organization", Value: oneLine(o.cfg.Entity.Name)},
			{Label: "External-Identifier", Value: r.TrackingNumber},
			{Label: "External-Description", Value: "Records released in response to records request " + r.TrackingNumber},
			{Label: "Records-Request", Value: r.TrackingNumber},
		}})
	if _, _, err := b.Add("README.txt", strings.NewReader(o.releaseReadme(r))); err != nil {
		return err
	}
	if err := o.writeItemsCSV(b, versions); err != nil {
		return err
	}
	// Two released versions of one item share its media: each file goes in
	// once (a ZIP entry, and a manifest line, per path).
	written := map[string]bool{}
	for _, v := range versions {
		if err := o.copyBlob(ctx, b, fmt.Sprintf("items/%d/v%d.json", v.ItemID, v.Seq), v.NormalizedKey); err != nil {
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
			name := fmt.Sprintf("items/%d/media/%s%s", v.ItemID, m.SHA256, mediaExt(m.ContentType))
			if written[name] {
				continue
			}
			written[name] = true
			if err := o.copyBlob(ctx, b, name, m.BlobKey); err != nil {
				return err
			}
		}
	}
	return b.Close()
}

func (o *Office) copyBlob(ctx context.Context, b *bagit.Writer, name, key string) error {
	rc, err := o.cfg.Blobs.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("records: release: %s: %w", name, err)
	}
	defer rc.Close()
	_, _, err = b.Add(name, rc)
	return err
}

func (o *Office) writeItemsCSV(b *bagit.Writer, versions []storage.Version) error {
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
	_, _, err := b.Add("items.csv", pr)
	pr.CloseWithError(err)
	return err
}

func (o *Office) releaseReadme(r *storage.Request) string {
	return fmt.Sprintf(`Records released by %s in response to records request %s.

This ZIP holds one folder, %[2]s, which is a BagIt bag (RFC 8493).
data/items.csv lists every record with the version released;
data/items/ITEM/vN.json is that version as captured (text, author, dates,
attachments), and data/items/ITEM/media/ holds its attachments, named by
their SHA-256.

To check that nothing was changed, unzip the file and, in the folder
%[2]s, run:

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

// mediaExt names a media file's extension from its type (the table the
// export uses), for people who open the bag; the SHA-256 before it is the
// identity.
func mediaExt(contentType string) string {
	ct, _, _ := strings.Cut(contentType, ";")
	return mediaExts[strings.ToLower(strings.TrimSpace(ct))]
}
