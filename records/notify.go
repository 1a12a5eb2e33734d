package records

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/storage"
)

// E-mail goes out after the change it reports has committed; a failure is
// logged and written to the request's history (the clerk sees it and can
// send the letter by post), never undoing the change.

func (o *Office) statusLink(r *storage.Request) string {
	return o.PublicURL() + "/requests/status?tracking_number=" + r.TrackingNumber
}

func (o *Office) sendReceipt(ctx context.Context, r *storage.Request) {
	text := fmt.Sprintf(`We received your records request on %s.

Tracking number: %s
Response due by: %s

%s

You can check its status at %s
with your tracking number and this e-mail address.

%s
`, r.ReceivedDate, r.TrackingNumber, r.DueDate, o.dueNote(r), o.statusLink(r), oneLine(o.cfg.Entity.Name))
	o.send(ctx, r, "Records request "+r.TrackingNumber+" received", text)
}

// dueNote explains the due date in the law's terms.
func (o *Office) dueNote(r *storage.Request) string {
	n := fmt.Sprintf("The law gives us %d business days from the day we received it (%s).", o.responseDays(r), o.law.Response.Citation)
	if r.Expedited && r.ExpediteDecision == "" {
		n += fmt.Sprintf(" You asked for an expedited response; if we cannot grant it we will tell you by %s.", r.ExpediteNoticeDue)
	}
	if d := strings.Join(strings.Fields(o.law.Texts.DeemedDenial), " "); d != "" {
		n += " " + d
	}
	return n
}

func (o *Office) sendMessage(ctx context.Context, r *storage.Request, body string) {
	text := fmt.Sprintf("A message about your records request %s:\n\n%s\n\nStatus: %s\n%s\n\n%s\n",
		r.TrackingNumber, body, Label(r.Status), o.statusLink(r), oneLine(o.cfg.Entity.Name))
	o.send(ctx, r, "Records request "+r.TrackingNumber+": a message", text)
}

func (o *Office) sendLetter(ctx context.Context, r *storage.Request, l *storage.Letter) {
	text := l.Text + "\n\nThe letter (PDF) and any released records are on the status page: " + o.statusLink(r) + "\n"
	o.send(ctx, r, "Records request "+r.TrackingNumber+": "+l.Title, text)
}

// send e-mails the requester if they gave an e-mail address.
func (o *Office) send(ctx context.Context, r *storage.Request, subject, text string) {
	if r.Email == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := o.cfg.Mail.Send(ctx, mail.Message{To: r.Email, Subject: subject, Text: text,
		Headers: map[string]string{"X-Civicarchive-Request": r.TrackingNumber}})
	detail := "e-mailed: " + subject
	if err != nil {
		o.log.Error("e-mail to requester failed", "tracking_number", r.TrackingNumber, "err", err)
		detail = "e-mail NOT sent (" + subject + "): " + err.Error()
	}
	_, uerr := o.cat.UpdateRequest(ctx, r.ID, zeroTime, func(t *storage.RequestTx) error {
		return t.Event(storage.RequestEvent{Actor: "system", Kind: "email", Detail: detail})
	})
	if uerr != nil {
		o.log.Error("record e-mail event", "tracking_number", r.TrackingNumber, "err", uerr)
	}
}
