package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// certificateFormat names the disposition certificate's JSON layout.
const certificateFormat = "civicarchive-disposition-certificate/1"

// certItem is one destroyed item as the certificate names it.
type certItem struct {
	ID          uint64    `json:"id"`
	AccountID   uint64    `json:"account_id"`
	Platform    string    `json:"platform"`
	NativeID    string    `json:"native_id"`
	Kind        string    `json:"kind"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	Versions    int       `json:"versions"`
	Media       int       `json:"media"`
	RuleID      uint64    `json:"rule_id"`
	Citation    string    `json:"citation"`
}

// certRequest is one destroyed request file.
type certRequest struct {
	ID             uint64    `json:"id"`
	TrackingNumber string    `json:"tracking_number"`
	Status         string    `json:"status"`
	ClosedAt       time.Time `json:"closed_at"`
	Letters        int       `json:"letters"`
	Messages       int       `json:"messages"`
	Events         int       `json:"events"`
	Attachments    int       `json:"attachments"`
	RuleID         uint64    `json:"rule_id"`
	Citation       string    `json:"citation"`
}

// certSkip is a listed record that was not destroyed, and why.
type certSkip struct {
	Type   string `json:"type"` // item or request
	ID     uint64 `json:"id"`
	Reason string `json:"reason"`
	When   string `json:"when"` // proposal or run
}

// certBlob is a blob that was not deleted, and why.
type certBlob struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// certificate collects what a run does, section by section, in temp files.
type certificate struct {
	items, requests, skipped      *jsonSection
	destroyed, kept, notDeleted   *jsonSection
	nItems, nRequests, held       int
	nDestroyed, nKept, nNotDelete int
	notEligible                   int
}

func newCertificate() (*certificate, error) {
	c := &certificate{}
	for _, s := range []**jsonSection{&c.items, &c.requests, &c.skipped, &c.destroyed, &c.kept, &c.notDeleted} {
		sec, err := newJSONSection()
		if err != nil {
			c.Close()
			return nil, err
		}
		*s = sec
	}
	return c, nil
}

// Close removes the temp files.
func (c *certificate) Close() {
	for _, s := range []*jsonSection{c.items, c.requests, c.skipped, c.destroyed, c.kept, c.notDeleted} {
		if s != nil {
			s.Close()
		}
	}
}

// skip records a listed record not destroyed; holds count as held.
func (c *certificate) skip(typ string, id uint64, reason, when string) {
	c.skipped.Add(certSkip{Type: typ, ID: id, Reason: reason, When: when})
	switch reason {
	case storage.BlockLegalHold, storage.BlockDenialHold, storage.BlockRequest:
		c.held++
	case storage.BlockNotEligible:
		c.notEligible++
	}
}

// run disposes of everything on the approved disposition's list, batch by
// batch, then writes the certificate and records the outcome.
func (o *Office) run(ctx context.Context, d *storage.Disposition, list *os.File, a Actor) (*storage.Disposition, error) {
	cert, err := newCertificate()
	if err != nil {
		return nil, err
	}
	defer cert.Close()
	asOf := o.cfg.Now().UTC()
	var items, requests []uint64
	flushItems := func() error {
		err := o.disposeItems(ctx, d, items, asOf, a, cert)
		items = items[:0]
		return err
	}
	flushRequests := func() error {
		err := o.disposeRequests(ctx, d, requests, asOf, a, cert)
		requests = requests[:0]
		return err
	}
	runErr := readJSONDoc(list, nil, map[string]func(*json.Decoder) error{
		"items": func(dec *json.Decoder) error {
			var li listItem
			if err := dec.Decode(&li); err != nil {
				return err
			}
			if li.Skip != "" {
				cert.skip("item", li.ID, li.Skip, "proposal")
				return nil
			}
			if items = append(items, li.ID); len(items) >= dispositionBatch {
				return flushItems()
			}
			return nil
		},
		"requests": func(dec *json.Decoder) error {
			var lr listRequest
			if err := dec.Decode(&lr); err != nil {
				return err
			}
			if lr.Skip != "" {
				cert.skip("request", lr.ID, lr.Skip, "proposal")
				return nil
			}
			if requests = append(requests, lr.ID); len(requests) >= dispositionBatch {
				return flushRequests()
			}
			return nil
		},
	})
	if runErr == nil && len(items) > 0 {
		runErr = flushItems()
	}
	if runErr == nil && len(requests) > 0 {
		runErr = flushRequests()
	}
	return o.finish(ctx, d, cert, asOf, a, runErr)
}

// disposeItems disposes of one batch of listed items, then deletes the
// blobs their rows named that no kept row names.
func (o *Office) disposeItems(ctx context.Context, d *storage.Disposition, ids []uint64, asOf time.Time, a Actor, cert *certificate) error {
	done, skipped, err := o.cat.DisposeItems(ctx, d.ID, ids, asOf, a.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if reason, ok := skipped[id]; ok {
			cert.skip("item", id, reason, "run")
		}
	}
	var keys []string
	for _, it := range done {
		cert.items.Add(certItem{ID: it.ID, AccountID: it.AccountID, Platform: it.Platform, NativeID: it.NativeID, Kind: it.Kind,
			FirstSeenAt: it.FirstSeenAt.UTC(), Versions: it.Versions, Media: it.Media, RuleID: it.Rule.ID, Citation: it.Rule.Citation})
		keys = append(keys, it.Keys...)
	}
	cert.nItems += len(done)
	return o.destroyBlobs(ctx, keys, cert)
}

// disposeRequests disposes of one batch of listed request files, then
// their letters' and release's blobs.
func (o *Office) disposeRequests(ctx context.Context, d *storage.Disposition, ids []uint64, asOf time.Time, a Actor, cert *certificate) error {
	done, skipped, err := o.cat.DisposeRequests(ctx, d.ID, ids, finalStatuses, asOf, a.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if reason, ok := skipped[id]; ok {
			cert.skip("request", id, reason, "run")
		}
	}
	var keys []string
	for _, r := range done {
		cert.requests.Add(certRequest{ID: r.ID, TrackingNumber: r.TrackingNumber, Status: r.Status, ClosedAt: r.ClosedAt.UTC(),
			Letters: r.Letters, Messages: r.Messages, Events: r.Events, Attachments: r.Attachments, RuleID: r.Rule.ID, Citation: r.Rule.Citation})
		keys = append(keys, r.Keys...)
	}
	cert.nRequests += len(done)
	return o.destroyBlobs(ctx, keys, cert)
}

// destroyBlobs deletes those of keys that no catalog row names any more
// (the catalog change is committed already: a crash here leaves at most
// unreferenced blobs). A blob a kept record shares is kept; one Object
// Lock protects, or whose deletion fails, is recorded and the run goes on.
func (o *Office) destroyBlobs(ctx context.Context, keys []string, cert *certificate) error {
	keys = uniqueKeys(keys)
	if len(keys) == 0 {
		return nil
	}
	del := o.cfg.Blobs.(blob.Deleter) // checked before the run started
	refs, err := o.cat.ReferencedBlobs(ctx, keys)
	if err != nil {
		return err
	}
	var destroyed []string
	for _, k := range keys {
		if refs[k] {
			cert.kept.Add(k)
			cert.nKept++
			continue
		}
		err := del.Delete(ctx, k)
		switch {
		case err == nil:
			destroyed = append(destroyed, k)
			cert.destroyed.Add(k)
			cert.nDestroyed++
		case errors.Is(err, blob.ErrNotFound):
			cert.notDeleted.Add(certBlob{Key: k, Reason: "already absent from the blob store"})
			cert.nNotDelete++
		case errors.Is(err, blob.ErrLocked):
			cert.notDeleted.Add(certBlob{Key: k, Reason: "protected by S3 Object Lock (retention or legal hold): " + err.Error()})
			cert.nNotDelete++
		default:
			o.log.Warn("disposition: blob not deleted", "key", k, "err", err)
			cert.notDeleted.Add(certBlob{Key: k, Reason: "delete failed: " + err.Error()})
			cert.nNotDelete++
		}
	}
	return o.checkNotReused(ctx, destroyed)
}

// checkNotReused looks for a capture that, while the run deleted, stored a
// row naming one of the destroyed blobs (the same bytes captured again):
// that row now points at nothing, and the run says so loudly.
func (o *Office) checkNotReused(ctx context.Context, destroyed []string) error {
	if len(destroyed) == 0 {
		return nil
	}
	refs, err := o.cat.ReferencedBlobs(ctx, destroyed)
	if err != nil {
		return err
	}
	for k := range refs {
		o.log.Error("disposition: a blob was captured again while it was being deleted; recapture it", "key", k)
		return fmt.Errorf("records: blob %s was deleted while a new capture started using it: capture it again", k)
	}
	return nil
}

func uniqueKeys(keys []string) []string {
	seen := map[string]bool{}
	out := keys[:0:0]
	for _, k := range keys {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// finish writes the certificate and records the run's outcome.
func (o *Office) finish(ctx context.Context, d *storage.Disposition, cert *certificate, asOf time.Time, a Actor, runErr error) (*storage.Disposition, error) {
	completed := o.cfg.Now().UTC().Truncate(time.Microsecond)
	d.CompletedAt = &completed
	d.Status, d.Error = storage.DispositionCompleted, ""
	if runErr != nil {
		d.Status, d.Error = storage.DispositionFailed, runErr.Error()
	}
	d.Items, d.Requests = cert.nItems, cert.nRequests
	d.SkippedHeld = cert.held
	ref, err := o.writeCertificate(ctx, d, cert, asOf)
	if err != nil {
		// Without its certificate the run is not complete, whatever it did.
		d.Status = storage.DispositionFailed
		d.Error = joinErr(d.Error, "certificate: "+err.Error())
	} else {
		d.CertificateKey, d.CertificateSHA256 = ref.Key, ref.SHA256
	}
	if err := o.cat.FinishDisposition(ctx, d, a.ID); err != nil {
		return nil, err
	}
	o.log.Info("disposition finished", "disposition", d.ID, "status", d.Status, "items", d.Items, "requests", d.Requests,
		"blobs_destroyed", cert.nDestroyed, "blobs_kept", cert.nKept, "blobs_not_deleted", cert.nNotDelete, "err", d.Error)
	return o.cat.DispositionByID(ctx, d.ID)
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// writeCertificate assembles the certificate from its sections and stores
// it in the blob store.
func (o *Office) writeCertificate(ctx context.Context, d *storage.Disposition, cert *certificate, asOf time.Time) (blob.Ref, error) {
	rules, err := o.cat.Rules(ctx)
	if err != nil {
		return blob.Ref{}, err
	}
	f, err := os.CreateTemp("", "civicarchive-disposition-certificate-*")
	if err != nil {
		return blob.Ref{}, err
	}
	defer func() { f.Close(); os.Remove(f.Name()) }()
	doc := newJSONDoc(f)
	doc.Field("format", certificateFormat)
	doc.Field("title", "Certificate of records disposition")
	doc.Field("disposition", d.ID)
	doc.Field("status", d.Status)
	doc.Field("proposed_by", d.ProposedBy)
	doc.Field("proposed_at", d.ProposedAt.UTC())
	doc.Field("approved_by", d.ApprovedBy)
	doc.Field("approved_at", d.ApprovedAt)
	doc.Field("run_as_of", asOf)
	doc.Field("completed_at", d.CompletedAt)
	doc.Field("list_key", d.ListKey)
	doc.Field("list_sha256", listSHA256(d.ListKey))
	doc.Field("rules", rulesOut(rules))
	doc.Field("counts", map[string]int{"items_destroyed": cert.nItems, "request_files_destroyed": cert.nRequests,
		"skipped_held": cert.held, "skipped_not_eligible": cert.notEligible, "blobs_destroyed": cert.nDestroyed,
		"blobs_kept_shared": cert.nKept, "blobs_not_deleted": cert.nNotDelete})
	doc.Field("error", d.Error)
	doc.CopyArray("items", cert.items)
	doc.CopyArray("request_files", cert.requests)
	doc.CopyArray("skipped", cert.skipped)
	doc.CopyArray("blobs_destroyed", cert.destroyed)
	doc.CopyArray("blobs_kept_shared", cert.kept)
	doc.CopyArray("blobs_not_deleted", cert.notDeleted)
	if err := doc.Close(); err != nil {
		return blob.Ref{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return blob.Ref{}, err
	}
	ref, _, err := o.cfg.Blobs.Put(ctx, f)
	return ref, err
}

// listSHA256 is the list's SHA-256, which its content-addressed key holds.
func listSHA256(key string) string {
	sum, err := blob.ParseKey(key)
	if err != nil {
		return ""
	}
	return sum
}
