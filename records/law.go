package records

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

// Law is a state's public records law as data: deadlines, citations, the
// statutory reasons and notice texts. Utah's GRAMA ships embedded
// (configs.UtahGRAMA); another state is another file.
type Law struct {
	Version         string `yaml:"version"`
	Name            string `yaml:"name"`
	ShortName       string `yaml:"short_name"`
	TrackingPrefix  string `yaml:"tracking_prefix"`
	RequestCitation string `yaml:"request_citation"`
	Response        struct {
		StandardBusinessDays       int    `yaml:"standard_business_days"`
		ExpeditedBusinessDays      int    `yaml:"expedited_business_days"`
		ExpediteNoticeBusinessDays int    `yaml:"expedite_notice_business_days"`
		Citation                   string `yaml:"citation"`
		DeemedDenialCitation       string `yaml:"deemed_denial_citation"`
	} `yaml:"response"`
	Appeal struct {
		Days                                    int    `yaml:"days"`
		OfficerDecisionBusinessDays             int    `yaml:"officer_decision_business_days"`
		OfficerDecisionExpeditedBusinessDays    int    `yaml:"officer_decision_expedited_business_days"`
		OfficerDecisionConfidentialBusinessDays int    `yaml:"officer_decision_confidential_business_days"`
		NextLevelDays                           int    `yaml:"next_level_days"`
		NextLevelAfterRequestDays               int    `yaml:"next_level_after_request_days"`
		NextLevelBody                           string `yaml:"next_level_body"`
		Citation                                string `yaml:"citation"`
		NextLevelCitation                       string `yaml:"next_level_citation"`
	} `yaml:"appeal"`
	Fees struct {
		FreeMinutes      int      `yaml:"free_minutes"`
		RepeatWindowDays int      `yaml:"repeat_window_days"`
		Citation         string   `yaml:"citation"`
		WaiverGrounds    []string `yaml:"waiver_grounds"`
	} `yaml:"fees"`
	Denial struct {
		Citation     string   `yaml:"citation"`
		HoldCitation string   `yaml:"hold_citation"`
		Grounds      []Ground `yaml:"grounds"`
	} `yaml:"denial"`
	NoRecords struct {
		Citation string `yaml:"citation"`
	} `yaml:"no_records"`
	Extraordinary struct {
		Citation string   `yaml:"citation"`
		Reasons  []Reason `yaml:"reasons"`
	} `yaml:"extraordinary"`
	Texts struct {
		AppealRights string `yaml:"appeal_rights"`
		Mediation    string `yaml:"mediation"`
		DeemedDenial string `yaml:"deemed_denial"`
	} `yaml:"texts"`

	appealRights *template.Template
}

// Ground is a citation a denial can rest on.
type Ground struct {
	Citation string `yaml:"citation"`
	Text     string `yaml:"text"`
}

// Reason is one statutory extraordinary circumstance.
type Reason struct {
	Key      string `yaml:"key"`
	Citation string `yaml:"citation"`
	Text     string `yaml:"text"`
}

// ParseLaw reads a law profile; unknown keys and missing numbers are errors.
func ParseLaw(data []byte) (*Law, error) {
	var l Law
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("records: law profile: %w", err)
	}
	if err := l.validate(); err != nil {
		return nil, fmt.Errorf("records: law profile %q: %w", l.Version, err)
	}
	return &l, nil
}

func (l *Law) validate() error {
	var errs []error
	need := func(name string, ok bool) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s is missing or not positive", name))
		}
	}
	need("version", l.Version != "")
	need("tracking_prefix", validPrefix(l.TrackingPrefix))
	need("response.standard_business_days", l.Response.StandardBusinessDays > 0)
	need("response.expedited_business_days", l.Response.ExpeditedBusinessDays > 0)
	need("response.expedite_notice_business_days", l.Response.ExpediteNoticeBusinessDays > 0)
	need("appeal.days", l.Appeal.Days > 0)
	need("appeal.officer_decision_business_days", l.Appeal.OfficerDecisionBusinessDays > 0)
	need("extraordinary.reasons", len(l.Extraordinary.Reasons) > 0)
	need("texts.appeal_rights", strings.TrimSpace(l.Texts.AppealRights) != "")
	need("fees.free_minutes", l.Fees.FreeMinutes >= 0)
	seen := map[string]bool{}
	for i, r := range l.Extraordinary.Reasons {
		if r.Key == "" || r.Text == "" || seen[r.Key] {
			errs = append(errs, fmt.Errorf("extraordinary.reasons[%d] needs a unique key and a text", i))
		}
		seen[r.Key] = true
	}
	t, err := template.New("appeal_rights").Option("missingkey=error").Parse(l.Texts.AppealRights)
	if err != nil {
		errs = append(errs, fmt.Errorf("texts.appeal_rights: %w", err))
	}
	l.appealRights = t
	return errors.Join(errs...)
}

func validPrefix(p string) bool {
	if p == "" || len(p) > 12 {
		return false
	}
	for _, r := range p {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Reason returns the extraordinary circumstance with that key.
func (l *Law) Reason(key string) (Reason, bool) {
	for _, r := range l.Extraordinary.Reasons {
		if r.Key == key {
			return r, true
		}
	}
	return Reason{}, false
}

// AppealText fills the appeal-rights notice.
type AppealText struct {
	OfficerName, OfficerTitle, OfficerAddress string
	AppealDays                                int
	AppealDeadline                            string
	NextLevelBody                             string
}

// AppealRights renders the appeal-rights paragraph of a denial notice.
func (l *Law) AppealRights(a AppealText) (string, error) {
	var b strings.Builder
	if err := l.appealRights.Execute(&b, a); err != nil {
		return "", fmt.Errorf("records: appeal rights text: %w", err)
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}
