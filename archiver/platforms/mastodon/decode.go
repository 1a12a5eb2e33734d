package mastodon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// flexID is an entity id. The docs say ids are strings "cast from an
// integer but not guaranteed to be a number"; some servers and forks send
// bare numbers (the translate example has "id": 22345792), so both are read.
type flexID string

// UnmarshalJSON accepts a JSON string, a JSON number or null.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: %w", err)
		}
		*f = flexID(n.String())
	}
	return nil
}

// account is the Account entity (the fields kept).
type account struct {
	ID          flexID  `json:"id"`
	Username    string  `json:"username"`
	Acct        string  `json:"acct"`
	DisplayName string  `json:"display_name"`
	Note        string  `json:"note"`
	URL         string  `json:"url"`
	Avatar      string  `json:"avatar"`
	Bot         bool    `json:"bot"`
	Fields      []field `json:"fields"`
}

// field is an Account::Field: a profile metadata row (value is HTML).
type field struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// attachment is a MediaAttachment.
type attachment struct {
	ID          flexID  `json:"id"`
	Type        string  `json:"type"`
	URL         *string `json:"url"`
	PreviewURL  *string `json:"preview_url"`
	RemoteURL   *string `json:"remote_url"`
	Description *string `json:"description"`
}

// poll keeps only the option titles (content); votes are counters.
type poll struct {
	Options []struct {
		Title string `json:"title"`
	} `json:"options"`
}

// status is the Status entity. Counters (replies_count etc.) are read for
// paging decisions only and never copied into an Item.
type status struct {
	ID                 flexID       `json:"id"`
	CreatedAt          string       `json:"created_at"`
	InReplyToID        *flexID      `json:"in_reply_to_id"`
	InReplyToAccountID *flexID      `json:"in_reply_to_account_id"`
	Sensitive          bool         `json:"sensitive"`
	SpoilerText        string       `json:"spoiler_text"`
	Visibility         string       `json:"visibility"`
	Language           *string      `json:"language"`
	URI                string       `json:"uri"`
	URL                *string      `json:"url"`
	RepliesCount       int          `json:"replies_count"`
	Content            string       `json:"content"`
	Reblog             *status      `json:"reblog"`
	Account            account      `json:"account"`
	MediaAttachments   []attachment `json:"media_attachments"`
	Poll               *poll        `json:"poll"`
	EditedAt           *string      `json:"edited_at"`

	created time.Time // parsed CreatedAt
}

// replyTo is in_reply_to_id, "" when the status answers nothing.
func (s *status) replyTo() string {
	if s.InReplyToID == nil {
		return ""
	}
	return string(*s.InReplyToID)
}

// statusContext is the Context entity of /api/v1/statuses/:id/context.
type statusContext struct {
	Ancestors   []status `json:"ancestors"`
	Descendants []status `json:"descendants"`
}

// statusEdit is one StatusEdit of /api/v1/statuses/:id/history.
type statusEdit struct {
	Content          string       `json:"content"`
	SpoilerText      string       `json:"spoiler_text"`
	Sensitive        bool         `json:"sensitive"`
	CreatedAt        string       `json:"created_at"`
	Account          account      `json:"account"`
	MediaAttachments []attachment `json:"media_attachments"`
	Poll             *poll        `json:"poll"`
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", platforms.ErrMalformed, what, err)
}

// decodeAccount reads an Account body (lookup or /accounts/:id).
func decodeAccount(body []byte) (account, error) {
	var a account
	if err := json.Unmarshal(body, &a); err != nil {
		return a, malformed("account", err)
	}
	if a.ID == "" {
		return a, malformed("account", errors.New("no id"))
	}
	return a, nil
}

// decodeStatuses reads an array of Status (an account's statuses page).
func decodeStatuses(body []byte) ([]status, error) {
	var ss []status
	if err := json.Unmarshal(body, &ss); err != nil {
		return nil, malformed("statuses", err)
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return nil, malformed("statuses", errors.New("null instead of an array"))
	}
	for i := range ss {
		if err := checkStatus(&ss[i]); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// decodeContext reads a Context body.
func decodeContext(body []byte) (statusContext, error) {
	var c statusContext
	if err := json.Unmarshal(body, &c); err != nil {
		return c, malformed("context", err)
	}
	if !bytes.Contains(body, []byte(`"descendants"`)) {
		return c, malformed("context", errors.New("no descendants"))
	}
	for _, list := range [][]status{c.Ancestors, c.Descendants} {
		for i := range list {
			if err := checkStatus(&list[i]); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// decodeHistory reads an array of StatusEdit, oldest first.
func decodeHistory(body []byte) ([]statusEdit, error) {
	var es []statusEdit
	if err := json.Unmarshal(body, &es); err != nil {
		return nil, malformed("history", err)
	}
	if len(es) == 0 {
		return nil, malformed("history", errors.New("no versions"))
	}
	for _, e := range es {
		if _, err := parseTime(e.CreatedAt); err != nil {
			return nil, malformed("history", err)
		}
	}
	return es, nil
}

func checkStatus(s *status) error {
	if s.ID == "" {
		return malformed("status", errors.New("no id"))
	}
	t, err := parseTime(s.CreatedAt)
	if err != nil {
		return malformed("status "+string(s.ID), err)
	}
	s.created = t
	if s.Reblog != nil {
		return checkStatus(s.Reblog)
	}
	return nil
}

// parseTime reads Mastodon's Datetime (ISO 8601 with milliseconds, UTC).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad datetime %q", s)
	}
	return t.UTC(), nil
}

// rendered is HTML content turned into plain text plus the links in it.
type rendered struct {
	Text  string
	Links []string // hrefs of ordinary links (not mentions or hashtags)
	Mails []string // mailto: addresses
}

// renderHTML turns Mastodon's sanitized HTML into plain text: <br> is a
// newline, paragraphs (and other blocks) are separated by a blank line,
// entities are unescaped, and the "invisible"/"ellipsis" spans of shortened
// links are kept so the full URL stays in the text.
func renderHTML(s string) rendered {
	var out rendered
	var b strings.Builder
	pendingBlock := false
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			out.Text = b.String()
			return out
		case html.TextToken:
			if pendingBlock && b.Len() > 0 {
				b.WriteString("\n\n")
			}
			pendingBlock = false
			b.Write(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "br":
				b.WriteByte('\n')
			case "p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6":
				pendingBlock = true
			case "li":
				if b.Len() > 0 && !pendingBlock {
					b.WriteByte('\n')
				}
			case "a":
				if hasAttr {
					collectLink(z, &out)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6":
				pendingBlock = true
			}
		}
	}
}

func collectLink(z *html.Tokenizer, out *rendered) {
	var href, class string
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "href":
			href = string(v)
		case "class":
			class = string(v)
		}
		if !more {
			break
		}
	}
	if strings.Contains(class, "mention") || strings.Contains(class, "hashtag") {
		return
	}
	if m, ok := strings.CutPrefix(href, "mailto:"); ok {
		if addr, err := url.PathUnescape(m); err == nil && addr != "" {
			out.Mails = append(out.Mails, addr)
		}
		return
	}
	if u, err := url.Parse(href); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		out.Links = append(out.Links, href)
	}
}

// nextLink returns the rel="next" URL of an RFC 8288 Link header, "" when
// there is none.
func nextLink(h string) string {
	for h != "" {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			return ""
		}
		gt := strings.IndexByte(h[lt:], '>')
		if gt < 0 {
			return ""
		}
		target := h[lt+1 : lt+gt]
		rest := h[lt+gt+1:]
		params := rest
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			params = rest[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			v = strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)
			for _, rel := range strings.Fields(v) {
				if strings.EqualFold(rel, "next") {
					return target
				}
			}
		}
		h = rest
	}
	return ""
}
