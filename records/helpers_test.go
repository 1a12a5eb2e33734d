package records_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/records"
	"github.com/civicarchive/civicarchive/records/bagit"
	"github.com/civicarchive/civicarchive/records/calendar"
	"github.com/civicarchive/civicarchive/records/mail"
	"github.com/civicarchive/civicarchive/records/mail/mailtest"
	"github.com/civicarchive/civicarchive/storage"
	"github.com/civicarchive/civicarchive/storage/blob"
	"github.com/civicarchive/civicarchive/storage/storagetest"
)

// postgresEnv names the PostgreSQL server the suite also runs on (the
// variable scripts/start-postgres.sh writes and CI sets).
const postgresEnv = "CIVICARCHIVE_TEST_DATABASE_URL"

// backend opens a fresh, empty catalog of one kind.
type backend struct {
	name string
	open func(tb testing.TB) *storage.Catalog
}

// backends lists SQLite always and PostgreSQL when postgresEnv is set; each
// PostgreSQL test gets its own schema, dropped afterwards.
func backends() []backend {
	bs := []backend{{"sqlite", func(tb testing.TB) *storage.Catalog {
		return mustOpen(tb, storage.Options{DataDir: tb.TempDir()})
	}}}
	if base := os.Getenv(postgresEnv); base != "" {
		bs = append(bs, backend{"postgres", func(tb testing.TB) *storage.Catalog {
			return mustOpen(tb, storage.Options{URL: storagetest.PostgresSchemaURL(tb, base)})
		}})
	}
	return bs
}

func mustOpen(tb testing.TB, o storage.Options) *storage.Catalog {
	tb.Helper()
	c, err := storage.Open(context.Background(), o)
	if err != nil {
		tb.Fatalf("open catalog: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// onEveryBackend runs fn as a subtest per backend, each with a fresh office
// whose clock starts at start.
func onEveryBackend(t *testing.T, start time.Time, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Parallel() // every test has its own database, blob store and mail server
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fn(t, newEnv(t, b.open(t), start))
		})
	}
}

// clock is the office's settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock by d.
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var denver = mustLocation("America/Denver")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a wall-clock time in Denver.
func at(y int, m time.Month, d, hour, min int) time.Time {
	return time.Date(y, m, d, hour, min, 0, 0, denver)
}

// The city the office writes for: what the letters must name.
var entity = records.Entity{
	Name: "Clinton City", Address: "2267 North 1500 West\nClinton, UT 84015",
	OfficerName: "Pat Officer", OfficerTitle: "City Manager",
	OfficerAddress: "2267 North 1500 West\nClinton, UT 84015", SignerTitle: "City Recorder",
}

var clerk = records.Actor{ID: "user:clara", Name: "Clara Clerk", UserID: 0}

// env is one records office built as serve builds it: a real catalog, a
// local blob store, Utah's law and calendar, and e-mail through a real SMTP
// server on loopback.
type env struct {
	ctx    context.Context
	cat    *storage.Catalog
	blobs  blob.Store
	smtp   *mailtest.Server
	clock  *clock
	office *records.Office

	acct  *storage.Account
	run   *storage.CaptureRun
	items map[string]uint64 // native id → item id
}

func newEnv(tb testing.TB, cat *storage.Catalog, start time.Time) *env {
	tb.Helper()
	ctx := context.Background()
	blobs, err := blob.NewLocal(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	srv := mailtest.NewServer(tb)
	host, port := srv.Addr()
	sender, err := mail.NewSMTP(mail.Config{Host: host, Port: port, TLS: mail.TLSNone,
		From: "Clinton City Records <records@clinton.example>", Timeout: 3 * time.Second}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	law, err := records.ParseLaw(configs.UtahGRAMA)
	if err != nil {
		tb.Fatal(err)
	}
	clk := &clock{t: start}
	office, err := records.New(records.Config{Catalog: cat, Blobs: blobs, Law: law, Mail: sender, Location: denver,
		Entity: entity, PublicURL: "https://records.clinton.example/",
		Fees: records.Fees{HourlyRateCents: 2000, CopyPageCents: 25, PrepayThresholdCents: 5000},
		Now:  clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	if err := office.EnsureCalendar(ctx, configs.UtahCalendar, "embedded"); err != nil {
		tb.Fatal(err)
	}
	return &env{ctx: ctx, cat: cat, blobs: blobs, smtp: srv, clock: clk, office: office, items: map[string]uint64{}}
}

// validFiling is a complete request as the form sends it.
func validFiling() records.Filing {
	return records.Filing{
		Name: "Ana Pérez", Email: "ana@example.com", EmailConsent: true, Phone: "(801) 555-0100",
		MailingAddress: "1 Main St\nClinton, UT 84015", Description: "Every comment on the parade post",
		DateFrom: "2026-07-01", DateTo: "2026-07-31", Platforms: []string{"mastodon"},
	}
}

func (e *env) file(tb testing.TB, f records.Filing) *storage.Request {
	tb.Helper()
	r, err := e.office.File(e.ctx, f, "public")
	if err != nil {
		tb.Fatalf("File: %v", err)
	}
	return r
}

func (e *env) request(tb testing.TB, id uint64) *storage.Request {
	tb.Helper()
	r, err := e.cat.RequestByID(e.ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func (e *env) record(tb testing.TB, id uint64) *storage.RequestRecord {
	tb.Helper()
	f, err := e.cat.RequestFile(e.ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (e *env) countRequests(tb testing.TB) int64 {
	tb.Helper()
	_, n, err := e.cat.ListRequests(e.ctx, storage.RequestFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// setStatus puts a request in a status directly (bypassing the state
// machine), to test moves from it.
func (e *env) setStatus(tb testing.TB, id uint64, status string) {
	tb.Helper()
	_, err := e.cat.UpdateRequest(e.ctx, id, time.Time{}, func(t *storage.RequestTx) error {
		t.R.Status = status
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// eventsOf returns the request's history events of one kind.
func eventsOf(rec *storage.RequestRecord, kind string) []storage.RequestEvent {
	var out []storage.RequestEvent
	for _, ev := range rec.Events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// account creates the captured account items belong to, once.
func (e *env) account(tb testing.TB) {
	tb.Helper()
	if e.acct != nil {
		return
	}
	e.acct = &storage.Account{Platform: "mastodon", Handle: "clintoncity", APIBase: "https://mastodon.example",
		Status: storage.AccountActive, Approval: storage.ApprovalApproved}
	if err := e.cat.CreateAccount(e.ctx, e.acct, "test"); err != nil {
		tb.Fatal(err)
	}
	run, err := e.cat.StartRun(e.ctx, e.acct.ID, storage.RunFull, "test")
	if err != nil {
		tb.Fatal(err)
	}
	e.run = run
}

// capture records a post (a new one, or a new version of one seen before)
// whose normalised JSON and media are really in the blob store.
func (e *env) capture(tb testing.TB, native, text string, media ...[]byte) uint64 {
	tb.Helper()
	e.account(tb)
	norm, err := json.Marshal(map[string]string{"native_id": native, "text": text})
	if err != nil {
		tb.Fatal(err)
	}
	ref, _, err := blob.PutBytes(e.ctx, e.blobs, norm)
	if err != nil {
		tb.Fatal(err)
	}
	var ms []storage.MediaCapture
	for i, m := range media {
		mr, _, err := blob.PutBytes(e.ctx, e.blobs, m)
		if err != nil {
			tb.Fatal(err)
		}
		ms = append(ms, storage.MediaCapture{NativeID: fmt.Sprintf("%s-m%d", native, i), URL: "https://mastodon.example/m.png",
			SHA256: mr.SHA256, BlobKey: mr.Key, ContentType: "image/png", Size: mr.Size})
	}
	created := time.Date(2026, 7, 20, 15, 0, 0, 0, time.UTC)
	res, err := e.cat.RecordItem(e.ctx, storage.ItemCapture{AccountID: e.acct.ID, RunID: e.run.ID, Platform: "mastodon",
		NativeID: native, Kind: "post", AuthorName: "Clinton City", URL: "https://mastodon.example/@clintoncity/" + native,
		CreatedAt: &created, Actor: "system:test", Media: ms,
		Versions: []storage.VersionCapture{{SHA256: ref.SHA256, NormalizedKey: ref.Key, RawKey: ref.Key, Text: text}}})
	if err != nil {
		tb.Fatal(err)
	}
	e.items[native] = res.ItemID
	return res.ItemID
}

func (e *env) versions(tb testing.TB, itemID uint64) []storage.Version {
	tb.Helper()
	vs, err := e.cat.Versions(e.ctx, itemID)
	if err != nil {
		tb.Fatal(err)
	}
	return vs
}

func (e *env) readBlob(tb testing.TB, key string) []byte {
	tb.Helper()
	rc, err := e.blobs.Get(e.ctx, key)
	if err != nil {
		tb.Fatalf("blob %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("blob %s: %v", key, err)
	}
	return b
}

// messagesTo returns what the SMTP server received for one address.
func (e *env) messagesTo(addr string) []mailtest.Received {
	var out []mailtest.Received
	for _, m := range e.smtp.Messages() {
		if slices.Contains(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

// lastMessageTo is the newest message to addr; it fails when there is none.
func (e *env) lastMessageTo(tb testing.TB, addr string) mailtest.Received {
	tb.Helper()
	ms := e.messagesTo(addr)
	if len(ms) == 0 {
		tb.Fatalf("no e-mail to %s", addr)
	}
	m := ms[len(ms)-1]
	if m.Err != nil {
		tb.Fatalf("e-mail to %s does not parse: %v", addr, m.Err)
	}
	return m
}

func (e *env) calendar(tb testing.TB) *calendar.Calendar {
	tb.Helper()
	c, err := e.office.Calendar(e.ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// flat collapses every run of white space to one space, so phrases can be
// found in text wrapped at 72 columns.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// fieldErrors asserts err is a FieldErrors naming exactly the fields.
func fieldErrors(tb testing.TB, err error, fields ...string) records.FieldErrors {
	tb.Helper()
	var fe records.FieldErrors
	if !errors.As(err, &fe) {
		tb.Fatalf("error = %v (%T), want FieldErrors naming %v", err, err, fields)
	}
	var got []string
	for k := range fe {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		tb.Fatalf("FieldErrors name %v, want %v (%v)", got, want, fe)
	}
	for _, f := range fields {
		if !strings.Contains(fe.Error(), f) {
			tb.Errorf("message %q does not name %s", fe.Error(), f)
		}
	}
	return fe
}

// bag is a release bundle opened and checked as a BagIt 1.0 bag.
type bag struct {
	files map[string][]byte
	info  map[string]string
}

// openBag reads a ZIP and checks it is a valid BagIt 1.0 bag (RFC 8493):
// bagit.txt exact, every payload file listed in manifest-sha256.txt with
// its SHA-256 and nothing else listed, tag files in tagmanifest-sha256.txt
// with theirs, and Payload-Oxum right.
func openBag(tb testing.TB, data []byte) *bag {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatalf("release is not a ZIP: %v", err)
	}
	if _, err := bagit.Verify(bytes.NewReader(data), int64(len(data))); err != nil {
		tb.Errorf("bagit.Verify: %v", err)
	}
	// One top folder holds the bag; below it the checks are our own.
	b := &bag{files: map[string][]byte{}, info: map[string]string{}}
	top := ""
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		dir, rest, ok := strings.Cut(f.Name, "/")
		if !ok || (top != "" && dir != top) {
			tb.Fatalf("ZIP entry %s is not in the bag's one top folder %q", f.Name, top)
		}
		top = dir
		f.Name = rest
		if _, dup := b.files[f.Name]; dup {
			tb.Errorf("ZIP holds %s twice", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f.Name, err)
		}
		b.files[f.Name] = body
	}
	if got := string(b.files["bagit.txt"]); got != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" {
		tb.Errorf("bagit.txt = %q", got)
	}
	checkManifest := func(name string, want func(string) bool) map[string]bool {
		listed := map[string]bool{}
		body, ok := b.files[name]
		if !ok {
			tb.Fatalf("%s missing", name)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			sum, path, ok := strings.Cut(line, "  ")
			if !ok {
				tb.Errorf("%s: bad line %q", name, line)
				continue
			}
			content, ok := b.files[path]
			if !ok {
				tb.Errorf("%s lists %s, which is not in the bag", name, path)
				continue
			}
			if h := sha256.Sum256(content); hex.EncodeToString(h[:]) != sum {
				tb.Errorf("%s: wrong SHA-256 for %s", name, path)
			}
			if listed[path] {
				tb.Errorf("%s lists %s twice", name, path)
			}
			listed[path] = true
		}
		for path := range b.files {
			if want(path) && !listed[path] {
				tb.Errorf("%s does not list %s", name, path)
			}
		}
		return listed
	}
	payload := checkManifest("manifest-sha256.txt", func(p string) bool { return strings.HasPrefix(p, "data/") })
	for p := range payload {
		if !strings.HasPrefix(p, "data/") {
			tb.Errorf("manifest-sha256.txt lists tag file %s", p)
		}
	}
	checkManifest("tagmanifest-sha256.txt", func(p string) bool {
		return !strings.HasPrefix(p, "data/") && p != "tagmanifest-sha256.txt"
	})
	for _, line := range strings.Split(strings.TrimSpace(string(b.files["bag-info.txt"])), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		b.info[k] = v
	}
	var octets, n int
	for p, body := range b.files {
		if strings.HasPrefix(p, "data/") {
			octets += len(body)
			n++
		}
	}
	if got, want := b.info["Payload-Oxum"], fmt.Sprintf("%d.%d", octets, n); got != want {
		tb.Errorf("Payload-Oxum = %q, want %q", got, want)
	}
	return b
}

// under lists the bag's files below a prefix.
func (b *bag) under(prefix string) []string {
	var out []string
	for p := range b.files {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
