package mastodon

import (
	"net/mail"
	"strings"

	"github.com/civicarchive/civicarchive/archiver/platforms"
)

// statusItem normalises a status. Only content goes in: counters
// (replies_count, favourites_count, ...) and the viewer's own flags stay out.
func statusItem(s *status, kind, parent, root, rawKey string) platforms.Item {
	r := renderHTML(s.Content)
	it := platforms.Item{
		NativeID:       string(s.ID),
		Kind:           kind,
		ParentNativeID: parent,
		RootNativeID:   root,
		AuthorID:       string(s.Account.ID),
		AuthorName:     authorName(s.Account),
		Text:           r.Text,
		Permalink:      s.URI,
		Media:          media(s.MediaAttachments),
		Extra:          extra(s.Content, s.SpoilerText, s.Sensitive, s.Poll, r),
		RawKey:         rawKey,
	}
	if s.URL != nil && *s.URL != "" {
		it.Permalink = *s.URL
	}
	created := s.created
	it.CreatedAt = &created
	if s.EditedAt != nil && *s.EditedAt != "" {
		it.EditMarker = *s.EditedAt
		if t, err := parseTime(*s.EditedAt); err == nil {
			it.EditedAt = &t
		}
	}
	if s.Visibility != "" {
		it.Extra["visibility"] = s.Visibility
	}
	if s.Language != nil && *s.Language != "" {
		it.Extra["language"] = *s.Language
	}
	if kind == platforms.KindPost && s.replyTo() != "" {
		// A reply of the account's into a thread the archive does not hold.
		it.Extra["in_reply_to_id"] = s.replyTo()
	}
	return it
}

// historyItems turns /history (oldest first, the last entry is the current
// version) into the earlier versions of cur.
func historyItems(cur platforms.Item, edits []statusEdit, rawKey string) []platforms.Item {
	if len(edits) < 2 {
		return nil
	}
	out := make([]platforms.Item, 0, len(edits)-1)
	for i, e := range edits[:len(edits)-1] {
		r := renderHTML(e.Content)
		h := platforms.Item{
			NativeID:       cur.NativeID,
			Kind:           cur.Kind,
			ParentNativeID: cur.ParentNativeID,
			RootNativeID:   cur.RootNativeID,
			AuthorID:       cur.AuthorID,
			AuthorName:     cur.AuthorName,
			Text:           r.Text,
			Permalink:      cur.Permalink,
			CreatedAt:      cur.CreatedAt,
			Media:          media(e.MediaAttachments),
			Extra:          extra(e.Content, e.SpoilerText, e.Sensitive, e.Poll, r),
			RawKey:         rawKey,
		}
		for _, k := range []string{"visibility", "language", "in_reply_to_id"} {
			if v, ok := cur.Extra[k]; ok {
				h.Extra[k] = v
			}
		}
		if i > 0 { // the first revision is the original post, never an edit
			if t, err := parseTime(e.CreatedAt); err == nil {
				h.EditedAt = &t
				h.EditMarker = e.CreatedAt
			}
		}
		out = append(out, h)
	}
	return out
}

func extra(htmlContent, spoiler string, sensitive bool, p *poll, r rendered) map[string]string {
	x := map[string]string{"html": htmlContent}
	if spoiler != "" {
		x["spoiler_text"] = spoiler
	}
	if sensitive {
		x["sensitive"] = "true"
	}
	if len(r.Links) > 0 {
		x["links"] = strings.Join(r.Links, "\n")
	}
	if p != nil && len(p.Options) > 0 {
		titles := make([]string, len(p.Options))
		for i, o := range p.Options {
			titles[i] = o.Title
		}
		x["poll_options"] = strings.Join(titles, "\n")
	}
	return x
}

func authorName(a account) string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Acct
}

// media lists attachments by their stable id; the URL is the original file,
// or the remote original when this instance has not cached it.
func media(as []attachment) []platforms.Media {
	var out []platforms.Media
	for _, a := range as {
		u := ""
		if a.URL != nil {
			u = *a.URL
		}
		if u == "" && a.RemoteURL != nil {
			u = *a.RemoteURL
		}
		if u == "" {
			continue // still processing: nothing to download yet
		}
		m := platforms.Media{NativeID: string(a.ID), URL: u, Kind: mediaKind(a.Type)}
		if a.Description != nil {
			m.AltText = *a.Description
		}
		out = append(out, m)
	}
	return out
}

func mediaKind(t string) string {
	switch t {
	case "image", "video", "audio":
		return t
	case "gifv":
		return "gif"
	default:
		return "document"
	}
}

// profile normalises the account. Website and e-mail live in the profile
// metadata fields (HTML values): the website is the first link field
// (preferring one named like "Website"), verified when the instance checked
// its rel="me" link; the e-mail is a mailto: link or a plain address.
func profile(a account, rawKey string) platforms.Profile {
	p := platforms.Profile{
		NativeID:    string(a.ID),
		Handle:      a.Acct,
		DisplayName: a.DisplayName,
		Description: renderHTML(a.Note).Text,
		URL:         a.URL,
		AvatarURL:   a.Avatar,
		Extra:       map[string]string{"note_html": a.Note},
		RawKey:      rawKey,
	}
	if a.Bot {
		p.Extra["bot"] = "true"
	}
	websiteNamed := false
	for _, f := range a.Fields {
		r := renderHTML(f.Value)
		p.Extra["field:"+f.Name] = r.Text
		if p.Email == "" {
			p.Email = emailIn(r)
		}
		if len(r.Links) == 0 {
			continue
		}
		named := isWebsiteName(f.Name)
		if p.Website == "" || (named && !websiteNamed) {
			p.Website = r.Links[0]
			p.Verified = f.VerifiedAt != nil && *f.VerifiedAt != ""
			websiteNamed = named
		}
	}
	return p
}

func isWebsiteName(n string) bool {
	n = strings.ToLower(n)
	for _, w := range []string{"web", "site", "homepage", "home page", "sitio", "página"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func emailIn(r rendered) string {
	if len(r.Mails) > 0 {
		return r.Mails[0]
	}
	t := strings.TrimSpace(r.Text)
	if strings.HasPrefix(t, "@") || strings.ContainsAny(t, " \n") {
		return "" // a fediverse handle, or prose
	}
	if a, err := mail.ParseAddress(t); err == nil && a.Address == t {
		return t
	}
	return ""
}
