package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// planFieldOK is an independent reading of what CheckPlan accepts in one
// field: trimmed, present when required, valid UTF-8, at most max
// characters, and no control characters but tab, CR and LF.
func planFieldOK(v string, required bool, max int) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return !required
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return false
	}
	for _, r := range v {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return false
		}
	}
	return true
}

// FuzzCheckPlan checks random work plans (POST /api/v1/plans and the
// coordinator's form).
//
// Properties: never panics; an error is FieldErrors naming exactly the
// fields an independent check finds bad, every name one of the plan's
// JSON fields, each with a message; the plan returned holds every field
// trimmed, and when there is no error it is only good text.
func FuzzCheckPlan(f *testing.F) {
	good := PlanInput{Department: "Parks", Mission: "Share park news", Audience: "Residents", LegalRisks: "Comments are public records",
		Technical: "Staff phones", Security: "Two-factor sign-in", Emergency: "Post closures within an hour"}
	add := func(p PlanInput) {
		f.Add(p.Department, p.Mission, p.Audience, p.LegalRisks, p.Technical, p.Security, p.Emergency)
	}
	add(good)
	add(PlanInput{})
	for _, mut := range []func(*PlanInput){
		func(p *PlanInput) { p.Department = "" },
		func(p *PlanInput) { p.Mission = "   \n\t" },
		func(p *PlanInput) { p.Audience = "a\x00b" },
		func(p *PlanInput) { p.LegalRisks = "\xff\xfe" },
		func(p *PlanInput) { p.Technical = strings.Repeat("é", 5000) },
		func(p *PlanInput) { p.Technical = strings.Repeat("é", 5001) },
		func(p *PlanInput) { p.Security = "line one\r\nline two\ttabbed" },
		func(p *PlanInput) { p.Emergency = "bell\a" },
		func(p *PlanInput) { p.Emergency = "del\x7f" },
		func(p *PlanInput) { p.Department = strings.Repeat("d", 256) },
		func(p *PlanInput) { p.Department = "' OR '1'='1"; p.Mission = "1; DROP TABLE work_plans;--" },
		func(p *PlanInput) { p.Mission = "<script>alert(1)</script> 🏊 \u202e" },
	} {
		p := good
		mut(&p)
		add(p)
	}
	type field struct {
		name     string
		required bool
		max      int
	}
	fields := []field{{"department", false, 255}, {"mission", true, 5000}, {"audience", true, 5000}, {"legal_risks", true, 5000},
		{"technical", true, 5000}, {"security", true, 5000}, {"emergency", true, 5000}}

	f.Fuzz(func(t *testing.T, department, mission, audience, legalRisks, technical, security, emergency string) {
		in := PlanInput{Department: department, Mission: mission, Audience: audience, LegalRisks: legalRisks,
			Technical: technical, Security: security, Emergency: emergency}
		values := []string{department, mission, audience, legalRisks, technical, security, emergency}
		p, err := CheckPlan(in)
		var want []string
		for i, fl := range fields {
			if !planFieldOK(values[i], fl.required, fl.max) {
				want = append(want, fl.name)
			}
		}
		got := []string{}
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("CheckPlan(%+v): %T %v is not FieldErrors", in, err, err)
			}
			for name, msg := range fe {
				if msg == "" {
					t.Fatalf("CheckPlan(%+v): %s has no message", in, name)
				}
			}
			got = fe.Fields()
		}
		for _, name := range got {
			if !slices.ContainsFunc(fields, func(fl field) bool { return fl.name == name }) {
				t.Fatalf("CheckPlan(%+v) names %q, not a field of a plan", in, name)
			}
		}
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("CheckPlan(%+v) refuses %v; want %v (%v)", in, got, want, err)
		}
		stored := []string{p.Department, p.Mission, p.Audience, p.LegalRisks, p.Technical, p.Security, p.Emergency}
		for i, v := range stored {
			if v != strings.TrimSpace(values[i]) {
				t.Fatalf("CheckPlan(%+v): %s = %q; want it trimmed", in, fields[i].name, v)
			}
		}
	})
}
