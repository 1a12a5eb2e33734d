package records

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The catalog-made files of an export: items.csv for spreadsheets,
// loadfile.dat for review platforms, custody.jsonl for the chain of
// custody. Each is written a chunk of items at a time.

// itemsCSVHeader names the columns of items.csv.
var itemsCSVHeader = []string{"item_id", "platform", "account", "native_id", "kind", "parent_native_id", "root_item_id",
	"author", "url", "created_at", "edited_at", "deleted_at", "hidden", "disposed_at", "version", "version_sha256",
	"captured_at", "normalized_path", "raw_path", "rendered_path", "text"}

// writeItemsCSV writes items.csv: one row per version of each exported
// item (one row without version for an item whose versions were disposed
// of). Paths are relative to data/.
func (j *exportJob) writeItemsCSV(ctx context.Context) error {
	return j.addGenerated("items.csv", func(w *bufio.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(itemsCSVHeader); err != nil {
			return err
		}
		err := j.eachChunk(ctx, func(part []itemRef) error {
			data, err := j.loadItems(ctx, part)
			if err != nil {
				return err
			}
			for _, r := range part {
				it := data.items[r.ID]
				base := []string{strconv.FormatUint(it.ID, 10), it.Platform, j.accounts[it.AccountID].Handle, it.NativeID,
					it.Kind, it.ParentNativeID, strconv.FormatUint(r.Thread, 10), it.AuthorName, it.URL, stamp(it.PlatformCreatedAt),
					stamp(it.PlatformEditedAt), stamp(it.DeletedAt), strconv.FormatBool(it.Hidden), stamp(it.DisposedAt)}
				rendered := fmt.Sprintf("rendered/%d.html", r.Thread)
				vs := data.versions[r.ID]
				if len(vs) == 0 {
					cw.Write(append(base, "", "", "", "", "", rendered, it.Text))
				}
				for _, v := range vs {
					cw.Write(append(base, strconv.Itoa(v.Seq), v.SHA256, stamp(&v.CapturedAt), normalizedPath(v),
						j.rawPath(v.RawKey), rendered, v.Text))
				}
			}
			return cw.Error()
		})
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}

// loadItems reads a chunk's items and versions (no media).
func (j *exportJob) loadItems(ctx context.Context, part []itemRef) (*itemData, error) {
	ids := exportIDs(part)
	items, err := j.o.cat.ItemsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("records: export: items: %w", err)
	}
	versions, err := j.o.cat.VersionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	return &itemData{items: items, versions: versions}, nil
}

// Concordance DAT delimiters (REFERENCE.md §3): field separator U+0014
// (shown as ¶ by review tools), text qualifier þ, and ® for a line break
// inside a field. The file is UTF-8 with a byte order mark, records end
// with CRLF.
const (
	datSep     = "\x14"
	datQuote   = "\u00fe"
	datNewline = "\u00ae"
	datBOM     = "\ufeff"
)

// datValue makes s safe inside a qualified DAT field: line breaks become
// ®, and the format's own characters in the text are replaced (þ by "th",
// ® by "(R)", U+0014 by a space); the native files keep the exact text.
var datValue = strings.NewReplacer("\r\n", datNewline, "\n", datNewline, "\r", datNewline,
	datQuote, "th", datNewline, "(R)", datSep, " ")

// loadFileHeader names the DAT fields.
var loadFileHeader = []string{"DOCID", "BEGDOC", "ENDDOC", "BEGATTACH", "ENDATTACH", "PARENTID", "REPLYTOID",
	"ITEM_ID", "KIND", "PLATFORM", "CUSTODIAN", "ACCOUNT", "AUTHOR", "NATIVE_ID", "PARENT_NATIVE_ID", "URL",
	"CREATED", "EDITED", "DELETED", "HIDDEN", "DISPOSED", "CAPTURED", "VERSIONS", "SHA256",
	"NATIVE_PATH", "RAW_PATH", "RENDERED_PATH", "TEXT"}

// docID is the control number of the item at position i of the export.
func (j *exportJob) docID(i int) string {
	return fmt.Sprintf("CIVIC-%d-%06d", j.e.ID, i+1)
}

// writeDATRow writes one DAT record.
func writeDATRow(w *bufio.Writer, fields []string) error {
	for i, f := range fields {
		if i > 0 {
			w.WriteString(datSep)
		}
		w.WriteString(datQuote)
		w.WriteString(datValue.Replace(f))
		w.WriteString(datQuote)
	}
	_, err := w.WriteString("\r\n")
	return err
}

// writeLoadFile writes loadfile.dat: one document per exported post,
// comment and reply (its current version), in bundle order. A thread whose
// post is exported is a family: every member carries BEGATTACH/ENDATTACH
// (the post's and the thread's last control numbers) and comments and
// replies name the post in PARENTID; REPLYTOID is the direct parent's
// control number when that is exported.
func (j *exportJob) writeLoadFile(ctx context.Context) error {
	return j.addGenerated("loadfile.dat", func(w *bufio.Writer) error {
		w.WriteString(datBOM)
		if err := writeDATRow(w, loadFileHeader); err != nil {
			return err
		}
		var fam family
		pos := 0
		return j.eachChunk(ctx, func(part []itemRef) error {
			data, err := j.loadItems(ctx, part)
			if err != nil {
				return err
			}
			for _, r := range part {
				if pos == 0 || r.Thread != j.refs[fam.start].Thread {
					fam = j.familyAt(pos)
				}
				if err := writeDATRow(w, j.datFields(pos, r, data, fam)); err != nil {
					return err
				}
				pos++
			}
			return nil
		})
	})
}

// family is the exported part of one thread in the load file.
type family struct {
	start, end int            // positions in the export
	hasPost    bool           // the thread's post is exported (at start)
	docs       map[uint64]int // item id → position
}

func (j *exportJob) familyAt(start int) family {
	f := family{start: start, end: j.threadEnd(start), docs: map[uint64]int{}}
	f.hasPost = j.refs[start].ID == j.refs[start].Thread
	for i := f.start; i < f.end; i++ {
		f.docs[j.refs[i].ID] = i
	}
	return f
}

// datFields is one item's DAT record.
func (j *exportJob) datFields(pos int, r itemRef, data *itemData, f family) []string {
	it := data.items[r.ID]
	acct := j.accounts[it.AccountID]
	doc := j.docID(pos)
	var begAttach, endAttach, parent, replyTo string
	if f.hasPost && f.end-f.start > 1 {
		begAttach, endAttach = j.docID(f.start), j.docID(f.end-1)
	}
	if f.hasPost && pos != f.start {
		parent = j.docID(f.start)
	}
	if r.Parent != 0 {
		if p, ok := f.docs[r.Parent]; ok {
			replyTo = j.docID(p)
		}
	}
	var captured, sha, native, raw string
	vs := data.versions[r.ID]
	text := it.Text
	if len(vs) > 0 {
		cur := vs[len(vs)-1]
		captured, sha, native, raw, text = stamp(&cur.CapturedAt), cur.SHA256, normalizedPath(cur), j.rawPath(cur.RawKey), cur.Text
	}
	custodian := acct.DisplayName
	if custodian == "" {
		custodian = acct.Handle
	}
	return []string{doc, doc, doc, begAttach, endAttach, parent, replyTo,
		strconv.FormatUint(it.ID, 10), it.Kind, it.Platform, custodian, acct.Handle, it.AuthorName, it.NativeID, it.ParentNativeID,
		it.URL, stamp(it.PlatformCreatedAt), stamp(it.PlatformEditedAt), stamp(it.DeletedAt), yesNo(it.Hidden),
		stamp(it.DisposedAt), captured, strconv.Itoa(len(vs)), sha, native, raw, fmt.Sprintf("rendered/%d.html", r.Thread), text}
}

func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// custodyLine is one custody.jsonl line: a custody event as the catalog
// holds it, with the item it is about. The event's hash is the SHA-256 of
// the JSON array [seq, at, kind, actor, subject_type, subject_id, details
// (the JSON text, as a string), prev_hash], so each line can be checked.
type custodyLine struct {
	ItemID      uint64          `json:"item_id"`
	Seq         uint64          `json:"seq"`
	At          string          `json:"at"`
	Kind        string          `json:"kind"`
	Actor       string          `json:"actor"`
	SubjectType string          `json:"subject_type"`
	SubjectID   string          `json:"subject_id"`
	Details     json.RawMessage `json:"details"`
	PrevHash    string          `json:"prev_hash"`
	Hash        string          `json:"hash"`
}

// writeCustody writes custody.jsonl: every custody event about each
// exported item, items in bundle order, each item's events oldest first.
func (j *exportJob) writeCustody(ctx context.Context) error {
	return j.addGenerated("custody.jsonl", func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return j.eachChunk(ctx, func(part []itemRef) error {
			evs, err := j.o.cat.ItemCustodyEvents(ctx, exportIDs(part))
			if err != nil {
				return err
			}
			for _, r := range part {
				for _, ev := range evs[r.ID] {
					details := json.RawMessage(ev.Details)
					if !json.Valid(details) {
						details, _ = json.Marshal(ev.Details)
					}
					line := custodyLine{ItemID: r.ID, Seq: ev.Seq, At: ev.At.UTC().Format(time.RFC3339Nano),
						Kind: ev.Kind, Actor: ev.Actor, SubjectType: ev.SubjectType, SubjectID: ev.SubjectID, Details: details,
						PrevHash: ev.PrevHash, Hash: ev.Hash}
					if err := enc.Encode(line); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
}
