package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// Received is one message the server accepted.
type Received struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Username string   // user that authenticated with AUTH, "" if none
	Data     []byte   // the message exactly as transmitted (CRLF line ends)

	// The fields below are decoded from Data. If it could not be parsed,
	// Err says why and they hold what was decoded before the failure.

	Header  mail.Header // top-level header fields, values as transmitted
	Subject string      // Subject with RFC 2047 encoded words decoded
	Text    string      // first text/plain part, transfer encoding and charset decoded, LF line ends
	HTML    string      // first text/html part, decoded like Text
	Err     error       // parse error, nil if the message was parsed
}

// maxDepth bounds multipart nesting; real messages use two or three levels.
const maxDepth = 10

// parse fills the decoded fields from r.Data.
func (r *Received) parse() {
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		r.Err = fmt.Errorf("mailtest: read message: %w", err)
		return
	}
	r.Header = msg.Header
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	if r.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		r.Err = fmt.Errorf("mailtest: decode subject: %w", err)
		return
	}
	ct, cte := msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding")
	if err := r.parsePart(ct, cte, msg.Body, 0); err != nil {
		r.Err = fmt.Errorf("mailtest: %w", err)
	}
}

// parsePart decodes one MIME entity and, for multiparts, its children,
// keeping the first text/plain and text/html bodies.
func (r *Received) parsePart(contentType, encoding string, body io.Reader, depth int) error {
	if depth > maxDepth {
		return errors.New("multipart nested too deeply")
	}
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii" // RFC 2045, section 5.2
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}

	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: NextPart would decode quoted-printable itself
			// but not base64; decoding both here keeps one path.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			err = r.parsePart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err != nil {
				return err
			}
		}
	}

	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil // attachments and other parts are only kept in Data
	}
	text, err := decodeText(body, encoding, params["charset"])
	if err != nil {
		return fmt.Errorf("%s: %w", mediaType, err)
	}
	if mediaType == "text/plain" && r.Text == "" {
		r.Text = text
	} else if mediaType == "text/html" && r.HTML == "" {
		r.HTML = text
	}
	return nil
}

// decodeText undoes the transfer encoding and charset of a text body and
// normalises CRLF to LF, so tests can compare it with the text they sent.
func decodeText(body io.Reader, encoding, charset string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips CR and LF
	default:
		return "", fmt.Errorf("unknown transfer encoding %q", encoding)
	}
	body, err := charsetReader(charset, body)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", fmt.Errorf("decode %s body: %w", encoding, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// charsetReader converts from charset to UTF-8.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(r), nil
}

func (r Received) clone() Received {
	r.To = slices.Clone(r.To)
	r.Data = slices.Clone(r.Data)
	if r.Header != nil {
		h := maps.Clone(r.Header)
		for k, v := range h {
			h[k] = slices.Clone(v)
		}
		r.Header = h
	}
	return r
}
