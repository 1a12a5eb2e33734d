package records

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"text/template"
)

// writeReadme writes README.txt: what the bag holds and how anyone can
// check it, on any machine, without civicarchive.
func (j *exportJob) writeReadme(context.Context) error {
	scope := "the items listed in items.csv"
	switch {
	case j.e.Kind == ExportSearch:
		scope = fmt.Sprintf("every item matching the search %q when the export started", j.e.Query)
	case j.e.HoldID != nil:
		scope = fmt.Sprintf("the items under legal hold %d", *j.e.HoldID)
	case j.tracking != "":
		scope = fmt.Sprintf("the items attached to records request %s (withheld ones included)", j.tracking)
	}
	data := map[string]any{
		"Entity": oneLine(j.o.cfg.Entity.Name), "Dir": j.bagDir(), "ID": j.e.ID, "Items": len(j.refs),
		"Matter": oneLine(j.e.Matter), "Scope": scope, "Software": j.software(), "By": j.e.CreatedBy,
		"Raws": len(j.raws), "Media": len(j.media), "Window": j.window,
	}
	return j.addGenerated("README.txt", func(w *bufio.Writer) error {
		return readmeTmpl.Execute(w, data)
	})
}

var readmeTmpl = template.Must(template.New("readme").Parse(strings.TrimLeft(`
Litigation export {{.ID}} of {{.Entity}}
{{if .Matter}}Matter: {{.Matter}}
{{end}}
This bundle holds {{.Items}} posts, comments and replies from the official
social media accounts of {{.Entity}}: {{.Scope}}.
It was made by {{.Software}} at the request of {{.By}}.{{if .Window}}
The versions in it were captured between {{.Window}} (UTC).{{end}}

The ZIP holds one folder, {{.Dir}}, which is a BagIt 1.0 bag (RFC 8493):

  bagit.txt               declares the bag
  bag-info.txt            who made it, when, what it holds, and its size
                          (Payload-Oxum: bytes.files of everything in data/)
  manifest-sha256.txt     the SHA-256 of every file under data/
  tagmanifest-sha256.txt  the SHA-256 of the files above
  data/                   the records (below)

Under data/:

  native/raw/SHA256.json (or .xml)
      Each response page of the platforms' APIs that the items were read
      from, byte for byte as the capture received it, named by its SHA-256
      ({{.Raws}} files). The only change ever made at capture is that the
      city's own access tokens, where a platform echoed them, were replaced
      by [REDACTED]. One page can hold several items.
  native/normalized/ITEM/vN.json
      Version N of item ITEM as civicarchive recorded it: text, author,
      dates, attachments, and the key of the raw page it came from. An
      edit on the platform is a new version; nothing is overwritten.
  media/SHA256.EXT
      Each attachment (image, video, document), named by its SHA-256
      ({{.Media}} files).
  rendered/index.html, rendered/ITEM.html
      One web page per thread (a post with its comments and replies),
      showing every version with its capture time, and marking deleted,
      hidden and edited items. Open index.html in any browser; the pages
      load nothing from the internet. Captured text is shown as text.
  items.csv
      One row per item version: ids, platform, account, author, dates,
      deletion and hidden marks, the version's content SHA-256 and capture
      time, the paths of its files (relative to data/), and its text.
  loadfile.dat
      A Concordance load file for review platforms: UTF-8 with a byte
      order mark, fields separated by U+0014 (shown as ¶), qualified by þ,
      line breaks inside a field written as ®. One document per post,
      comment and reply (its current version), with control numbers
      (BEGDOC), families (a post with its comments and replies: BEGATTACH,
      ENDATTACH, PARENTID) and the paths of its files. In TEXT, the
      characters þ and ® of the captured text are written as "th" and
      "(R)"; the native files hold the exact text.
  custody.jsonl
      The chain of custody of each item: every event the catalog's
      append-only custody log holds about it (capture, change, deletion
      noticed, ...), one JSON object per line, with the SHA-256 the capture
      recorded for each version. Each event's "hash" is the SHA-256 of the
      JSON array [seq, at, kind, actor, subject_type, subject_id, details
      (its JSON text, as a string), prev_hash], and "prev_hash" is the
      hash of the event before it in the whole log, so these lines can be
      checked against the city's custody log at any time.

HOW TO CHECK THAT NOTHING WAS CHANGED

On any machine with the standard tools (Linux, macOS with coreutils, or
Windows with WSL):

  unzip BUNDLE.zip
  cd {{.Dir}}
  sha256sum -c manifest-sha256.txt
  sha256sum -c tagmanifest-sha256.txt

Every line must end in OK. Then check that no file was added: every file
under data/ must be listed in manifest-sha256.txt. Any BagIt validator
(for example the Library of Congress's bagit-python: "bagit.py --validate
{{.Dir}}") does all of this, as does:

  civicarchive verify BUNDLE.zip

which checks the structure, Payload-Oxum, every manifest line and that no
payload file is missing or extra, and names the first problem.

The SHA-256 of the whole ZIP was recorded in the city's custody log when
the export was made.
`, "\n")))
