package mailtest

import (
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// send delivers raw with the standard library client, independent of the
// go-mail based sender this package exists to test.
func send(tb testing.TB, s *Server, auth smtp.Auth, raw string) error {
	tb.Helper()
	host, port := s.Addr()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	return smtp.SendMail(host+":"+strconv.Itoa(port), auth, "from@example.gov", []string{"to@example.com"}, []byte(raw))
}

func TestServerDecodes(t *testing.T) {
	tests := []struct {
		name, raw           string
		subject, text, html string
	}{
		{
			name:    "plain 7bit without content type",
			raw:     "Subject: Hello\n\nLine one\nLine two\n",
			subject: "Hello", text: "Line one\nLine two\n",
		},
		{
			name: "quoted-printable with encoded-word subject",
			raw: "Subject: =?UTF-8?q?Solicitud_=E2=80=94_informaci=C3=B3n?=\n" +
				"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"Informaci=C3=B3n lista, a very long line that was soft-=\nbroken by the encoder.\n",
			subject: "Solicitud — información",
			text:    "Información lista, a very long line that was soft-broken by the encoder.\n",
		},
		{
			name: "multipart alternative in base64 and latin-1",
			raw: "Subject: =?ISO-8859-1?B?Q2Fm6Q==?=\nMIME-Version: 1.0\n" +
				"Content-Type: multipart/alternative; boundary=\"b1\"\n\n" +
				"--b1\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" +
				"Q2Fmw6kgYWJp\nZXJ0bw==\n" +
				"--b1\nContent-Type: text/html; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"<p>Caf=E9</p>\n--b1--\n",
			subject: "Café", text: "Café abierto", html: "<p>Café</p>",
		},
		{
			name: "nested mixed with attachment",
			raw: "Subject: nested\nContent-Type: multipart/mixed; boundary=outer\n\n" +
				"--outer\nContent-Type: multipart/alternative; boundary=inner\n\n" +
				"--inner\nContent-Type: text/plain\n\ntext\n--inner\nContent-Type: text/html\n\n<b>html</b>\n--inner--\n" +
				"--outer\nContent-Type: text/plain\nContent-Disposition: attachment\n\nnot the body\n--outer--\n",
			subject: "nested", text: "text", html: "<b>html</b>",
		},
	}
	srv := NewServer(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := send(t, srv, nil, tt.raw); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.WaitFor(t, i+1, 5*time.Second)[i]
			if got.Err != nil {
				t.Fatalf("parse: %v", got.Err)
			}
			if got.Subject != tt.subject || got.Text != tt.text || got.HTML != tt.html {
				t.Errorf("got subject %q text %q html %q\nwant %q %q %q",
					got.Subject, got.Text, got.HTML, tt.subject, tt.text, tt.html)
			}
			if got.From != "from@example.gov" || len(got.To) != 1 || got.To[0] != "to@example.com" {
				t.Errorf("envelope = %q → %q", got.From, got.To)
			}
		})
	}
}

func TestServerAuth(t *testing.T) {
	srv := NewServer(t, WithAuth("clerk", "pw"))
	host, _ := srv.Addr()
	if err := send(t, srv, nil, "Subject: x\n\nx\n"); err == nil {
		t.Error("unauthenticated send accepted")
	}
	if err := send(t, srv, smtp.PlainAuth("", "clerk", "nope", host), "Subject: x\n\nx\n"); err == nil {
		t.Error("wrong password accepted")
	}
	if err := send(t, srv, smtp.PlainAuth("", "clerk", "pw", host), "Subject: x\n\nx\n"); err != nil {
		t.Fatalf("authenticated send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].Username != "clerk" {
		t.Errorf("got %d messages, user %q; want 1 from clerk", len(got), got[0].Username)
	}
}

func TestMessagesIsACopy(t *testing.T) {
	srv := NewServer(t)
	if err := send(t, srv, nil, "Subject: x\n\nx\n"); err != nil {
		t.Fatal(err)
	}
	first := srv.WaitFor(t, 1, 5*time.Second)
	first[0].To[0] = "changed"
	first[0].Data[0] = '!'
	if again := srv.Messages(); again[0].To[0] == "changed" || again[0].Data[0] == '!' {
		t.Error("Messages shares memory with the server's record")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Transfer-Encoding: base64\r\n\r\n!!\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Received{Data: data}
		r.parse() // must not panic or hang
	})
}
