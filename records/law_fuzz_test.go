package records

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/civicarchive/civicarchive/configs"
)

// lawProblems is what ParseLaw's checks must name for a profile that
// decodes: each requirement an independent reading of the law type finds
// broken, by the key its message names.
func lawProblems(l *Law) []string {
	var out []string
	need := func(name string, ok bool) {
		if !ok {
			out = append(out, name)
		}
	}
	prefixOK := l.TrackingPrefix != "" && len(l.TrackingPrefix) <= 12
	for _, r := range l.TrackingPrefix {
		prefixOK = prefixOK && (('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
	}
	need("version", l.Version != "")
	need("tracking_prefix", prefixOK)
	need("response.standard_business_days", l.Response.StandardBusinessDays > 0)
	need("response.expedited_business_days", l.Response.ExpeditedBusinessDays > 0)
	need("response.expedite_notice_business_days", l.Response.ExpediteNoticeBusinessDays > 0)
	need("appeal.days", l.Appeal.Days > 0)
	need("appeal.officer_decision_business_days", l.Appeal.OfficerDecisionBusinessDays > 0)
	need("extraordinary.reasons", len(l.Extraordinary.Reasons) > 0)
	need("texts.appeal_rights", strings.TrimSpace(l.Texts.AppealRights) != "")
	need("fees.free_minutes", l.Fees.FreeMinutes >= 0)
	return out
}

// FuzzParseLaw parses a random law profile, seeded with Utah's and with
// broken copies of it.
//
// Properties: never panics; an error says it is about the law profile,
// and for a profile that decodes it names every requirement the profile
// breaks; an accepted profile keeps every requirement (positive
// deadlines, a tracking prefix of A-Z and 0-9, unique keyed reasons, an
// appeal-rights text), finds each of its reasons by key, says the same
// thing written back out as YAML, and renders its appeal-rights text
// without panicking.
func FuzzParseLaw(f *testing.F) {
	utah := string(configs.UtahGRAMA)
	f.Add(utah)
	for _, s := range []string{
		"", "~", "[]", "version: x", "nosuchkey: 1", "version: [1]",
		strings.Replace(utah, "tracking_prefix:", "tracking_prefix: grama #", 1),
		strings.Replace(utah, "standard_business_days:", "standard_business_days: -1 #", 1),
		strings.Replace(utah, "version:", "version: \"\" #", 1),
		strings.Replace(utah, "version:", "colour: red\nversion:", 1),
		strings.Replace(utah, "appeal_rights:", "appeal_rights: \"{{.Nope}}\" #", 1),
		strings.Replace(utah, "appeal_rights:", "appeal_rights: \"{{\" #", 1),
		strings.Replace(utah, "appeal_rights:", "appeal_rights: \"{{.OfficerName}} {{.AppealDays}}\" #", 1),
		utah + "\n---\nversion: second document\n",
		"a: &a [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, doc string) {
		l, err := ParseLaw([]byte(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "records: law profile") {
				t.Fatalf("ParseLaw(%q): %q does not say it is about the law profile", doc, err)
			}
			// A profile that decodes is refused by the checks: every
			// broken requirement is named.
			var decoded Law
			dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
			dec.KnownFields(true)
			if dec.Decode(&decoded) != nil {
				return
			}
			problems := lawProblems(&decoded)
			for _, p := range problems {
				if !strings.Contains(err.Error(), p) {
					t.Fatalf("ParseLaw(%q): %q does not name %s", doc, err, p)
				}
			}
			if len(problems) == 0 && !strings.Contains(err.Error(), "extraordinary.reasons[") && !strings.Contains(err.Error(), "texts.appeal_rights") {
				t.Fatalf("ParseLaw(%q): %q names no broken requirement", doc, err)
			}
			return
		}
		if p := lawProblems(l); len(p) > 0 {
			t.Fatalf("ParseLaw(%q) accepted a profile breaking %v", doc, p)
		}
		seen := map[string]bool{}
		for _, r := range l.Extraordinary.Reasons {
			if r.Key == "" || r.Text == "" || seen[r.Key] {
				t.Fatalf("ParseLaw(%q) accepted reasons %+v", doc, l.Extraordinary.Reasons)
			}
			seen[r.Key] = true
			if got, ok := l.Reason(r.Key); !ok || got != r {
				t.Fatalf("ParseLaw(%q): Reason(%q) = %+v, %v", doc, r.Key, got, ok)
			}
		}
		out, err := yaml.Marshal(l)
		if err != nil {
			t.Fatalf("ParseLaw(%q): marshal: %v", doc, err)
		}
		again, err := ParseLaw(out)
		if err != nil {
			t.Fatalf("ParseLaw(%q) accepted it, but not itself written out: %v\n%s", doc, err, out)
		}
		a, b := *l, *again
		a.appealRights, b.appealRights = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("ParseLaw(%q) = %+v\nwritten out and parsed again: %+v", doc, a, b)
		}
		// Render the appeal rights, unless the text asks the template
		// engine for work out of proportion to one input (a loop, a
		// printf width, a recursive template): the profile is the
		// operator's, and such a text is slow, not wrong.
		tmpl := l.Texts.AppealRights
		if len(tmpl) > 2000 || strings.Contains(tmpl, "range") || strings.Contains(tmpl, "print") || strings.Contains(tmpl, "template") ||
			strings.Contains(tmpl, "block") || strings.Contains(tmpl, "call") {
			return
		}
		if _, err := l.AppealRights(AppealText{OfficerName: "Pat", OfficerTitle: "Manager", OfficerAddress: "1 Main St", AppealDays: 30,
			AppealDeadline: "2026-08-01", NextLevelBody: "the State Records Committee"}); err != nil && !strings.HasPrefix(err.Error(), "records: appeal rights text") {
			t.Fatalf("ParseLaw(%q): AppealRights: %q", doc, err)
		}
	})
}
