package records

import (
	"context"
	"fmt"
	"strings"

	"github.com/civicarchive/civicarchive/records/letter"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
)

// LetterStylesheet is where the api serves the letters' stylesheet.
const LetterStylesheet = "/assets/letter.css"

// composed is a letter with the kind it is recorded under.
type composed struct {
	kind string
	l    letter.Letter
}

// base starts a letter to the requester on the city's letterhead.
func (o *Office) base(r *storage.Request, a Actor, title string) letter.Letter {
	e := o.cfg.Entity
	to := append([]string{r.Name}, splitLines(r.MailingAddress)...)
	signer := a.Name
	if signer == "" {
		signer = strings.TrimPrefix(strings.TrimPrefix(a.ID, "user:"), "token:")
	}
	return letter.Letter{
		Entity: e.Name, EntityAddress: splitLines(e.Address), Title: title, Reference: r.TrackingNumber,
		Date: o.Today(), To: to, Salutation: "Dear " + r.Name + ":", Closing: "Sincerely,",
		Signature: []string{signer, e.SignerTitle, e.Name}, Stylesheet: LetterStylesheet,
	}
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// requestSection restates the request being answered.
func (o *Office) requestSection(r *storage.Request) letter.Section {
	return letter.Section{Heading: "Your request", Paragraphs: []string{
		fmt.Sprintf("On %s we received your request under the %s, tracking number %s:", r.ReceivedDate, o.law.Name, r.TrackingNumber),
		r.Description,
	}}
}

// appealSections are the parts every appealable notice carries: the right
// to appeal to the chief administrative officer, by name and business
// address, the time limit, and mediation (63G-2-205(2)(c)-(d)).
func (o *Office) appealSections(appealBy string) ([]letter.Section, error) {
	e := o.cfg.Entity
	text, err := o.law.AppealRights(AppealText{OfficerName: e.OfficerName, OfficerTitle: e.OfficerTitle,
		OfficerAddress: strings.Join(splitLines(e.OfficerAddress), ", "), AppealDays: o.law.Appeal.Days,
		AppealDeadline: appealBy, NextLevelBody: o.law.Appeal.NextLevelBody})
	if err != nil {
		return nil, err
	}
	secs := []letter.Section{{Heading: "Your right to appeal", Paragraphs: []string{text}}}
	if m := strings.Join(strings.Fields(o.law.Texts.Mediation), " "); m != "" {
		secs = append(secs, letter.Section{Heading: "Mediation", Paragraphs: []string{m}})
	}
	return secs, nil
}

// responseLetter writes the letter of a response.
func (o *Office) responseLetter(ctx context.Context, r *storage.Request, a Actor, resp Response, appealBy string, rel *releaseRef) (composed, error) {
	titles := map[string]string{
		RespondApprove:       "Records Request Approved",
		RespondPartial:       "Notice of Partial Denial of Records Request",
		RespondDeny:          "Notice of Denial of Records Request",
		RespondNoRecords:     "Notice: No Responsive Records Maintained",
		RespondExtraordinary: "Notice of Extraordinary Circumstances",
	}
	l := o.base(r, a, titles[resp.Kind])
	l.Sections = append(l.Sections, o.requestSection(r))
	var decision []letter.Section
	switch resp.Kind {
	case RespondApprove, RespondPartial:
		decision = o.releaseSections(r, resp, rel)
	case RespondNoRecords:
		p := fmt.Sprintf("After a search, %s does not maintain records responsive to your request (%s).", o.cfg.Entity.Name, o.law.NoRecords.Citation)
		if resp.ReferralEntity != "" {
			p += " The records you describe may be maintained by " + resp.ReferralEntity + ", to whom you may direct your request."
		}
		decision = []letter.Section{{Heading: "Decision", Paragraphs: []string{p}}}
	case RespondExtraordinary:
		reason, _ := o.law.Reason(resp.ReasonKey)
		decision = []letter.Section{{Heading: "Decision", Paragraphs: []string{
			fmt.Sprintf("We cannot respond within the usual time because of extraordinary circumstances: %s (Utah Code %s).", reason.Text, reason.Citation),
			fmt.Sprintf("We expect the records to be available on or before %s.", resp.AvailableDate),
		}}}
	}
	if resp.Kind == RespondDeny {
		decision = o.denialSections(resp, nil)
	}
	l.Sections = append(l.Sections, decision...)
	if resp.Explanation != "" {
		l.Sections = append(l.Sections, letter.Section{Heading: "Explanation", Paragraphs: splitParagraphs(resp.Explanation)})
	}
	if est := ParseEstimate(r); est != nil && len(est.Lines) > 0 {
		l.Sections = append(l.Sections, feeSection(est))
	}
	if appealBy != "" {
		secs, err := o.appealSections(appealBy)
		if err != nil {
			return composed{}, err
		}
		l.Sections = append(l.Sections, secs...)
	}
	return composed{kind: resp.Kind, l: l}, nil
}

// releaseSections say what is released (and, in part, what is withheld).
func (o *Office) releaseSections(r *storage.Request, resp Response, rel *releaseRef) []letter.Section {
	s := letter.Section{Heading: "Decision"}
	if resp.Kind == RespondApprove {
		s.Paragraphs = append(s.Paragraphs, "Your request is approved. The records are released to you in full.")
	} else {
		s.Paragraphs = append(s.Paragraphs, "Your request is approved in part. The records listed below are released; the rest are withheld as explained in this notice.")
	}
	if rel != nil {
		what := fmt.Sprintf("The %d released records are", rel.Count)
		if rel.Count == 1 {
			what = "The released record is"
		}
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf(
			"%s in one ZIP file you can download from the request status page (%s/requests/status) with your tracking number and e-mail or phone. Its SHA-256 is %s; the file contains a manifest so you can check that no byte was changed.",
			what, o.PublicURL(), rel.SHA256))
		s.Items = rel.Listing
	}
	secs := []letter.Section{s}
	if resp.Kind == RespondPartial {
		secs = append(secs, o.denialSections(resp, rel)...)
	}
	return secs
}

// denialSections describe what is withheld and the law that allows it
// (63G-2-205(2)(a)-(b)), and that it is kept until appeals are over.
func (o *Office) denialSections(resp Response, rel *releaseRef) []letter.Section {
	s := letter.Section{Heading: "Records withheld", Paragraphs: []string{resp.WithheldDescription}}
	if rel != nil {
		s.Items = rel.Withheld
	}
	return []letter.Section{s, {Heading: "Legal basis", Paragraphs: []string{
		"The records are withheld under the following provisions:"}, Items: resp.Citations},
		{Heading: "Preservation", Paragraphs: []string{fmt.Sprintf(
			"The withheld records will not be destroyed until every appeal is over (%s).", o.law.Denial.HoldCitation)}}}
}

func feeSection(est *FeeEstimate) letter.Section {
	t := &letter.Table{Header: []string{"Item", "Quantity", "Amount"}, RightAlign: []int{2}}
	for _, l := range est.Lines {
		t.Rows = append(t.Rows, []string{l.Description, l.Quantity, Money(l.Cents)})
	}
	if est.WaivedCents > 0 {
		t.Rows = append(t.Rows, []string{"Fee waiver granted: " + est.WaiverReason, "", "-" + Money(est.WaivedCents)})
	}
	t.Footer = []string{"Total", "", Money(est.TotalCents)}
	s := letter.Section{Heading: "Fees", Table: t}
	if est.Waiver == "denied" {
		s.Paragraphs = append(s.Paragraphs, "Your request for a fee waiver is denied: "+est.WaiverReason+". You may appeal this decision as described below.")
	}
	return s
}

// expediteLetter is the notice that expediting was refused.
func (o *Office) expediteLetter(r *storage.Request, a Actor, reason string) composed {
	l := o.base(r, a, "Notice: Expedited Response Not Granted")
	l.Sections = append(l.Sections, o.requestSection(r), letter.Section{Heading: "Decision", Paragraphs: []string{
		fmt.Sprintf("You asked for an expedited response. It is not granted (%s): %s", o.law.Response.Citation, reason),
		fmt.Sprintf("We will respond to your request within %d business days of its receipt, by %s.", o.law.Response.StandardBusinessDays, r.DueDate),
	}})
	return composed{kind: "expedite_refused", l: l}
}

// storeLetter renders a letter as HTML and PDF into the blob store and
// returns its (unsaved) row, which names the staff member who wrote it.
func (o *Office) storeLetter(ctx context.Context, c composed, a Actor) (*storage.Letter, error) {
	html, err := c.l.HTML()
	if err != nil {
		return nil, err
	}
	pdf, err := c.l.PDF()
	if err != nil {
		return nil, err
	}
	hr, _, err := blob.PutBytes(ctx, o.cfg.Blobs, html)
	if err != nil {
		return nil, fmt.Errorf("records: store letter: %w", err)
	}
	pr, _, err := blob.PutBytes(ctx, o.cfg.Blobs, pdf)
	if err != nil {
		return nil, fmt.Errorf("records: store letter: %w", err)
	}
	return &storage.Letter{Kind: c.kind, Title: c.l.Title, HTMLKey: hr.Key, PDFKey: pr.Key, PDFSHA256: pr.SHA256,
		Text: c.l.Text(), CreatedBy: a.ID}, nil
}

func splitParagraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
