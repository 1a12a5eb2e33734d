package storage

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestKeyRingSealer(t *testing.T) {
	k1, k2, k3 := testKey(1), testKey(2), testKey(3)
	old, _ := NewSealer(k2)
	ring, err := NewSealer(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	byOld, _ := old.Seal("old token")
	byRing, _ := ring.Seal("new token")
	if got, k, err := ring.OpenKey(byOld); err != nil || got != "old token" || k != 1 {
		t.Fatalf("ring opens an older key's value: %q key %d %v", got, k, err)
	}
	if got, k, err := ring.OpenKey(byRing); err != nil || got != "new token" || k != 0 {
		t.Fatalf("ring seals with its first key: %q key %d %v", got, k, err)
	}
	if _, err := old.Open(byRing); err == nil {
		t.Fatal("the ring sealed with an older key")
	}
	// A wrong key never yields a wrong plaintext: GCM refuses.
	wrong, _ := NewSealer(k3)
	for _, v := range [][]byte{byOld, byRing} {
		if got, err := wrong.Open(v); err == nil || got != "" {
			t.Fatalf("wrong key opened a value: %q", got)
		}
	}
	if _, k, err := ring.OpenKey(nil); err != nil || k != -1 {
		t.Fatalf("no credential: key %d %v", k, err)
	}
	if _, err := NewSealer(k1, []byte("short")); err == nil {
		t.Fatal("a short older key was accepted")
	}
	if Fingerprint(k1) == Fingerprint(k2) || len(Fingerprint(k1)) != 8 || strings.Contains(hex.EncodeToString(k1), Fingerprint(k1)) {
		t.Fatalf("fingerprint %q", Fingerprint(k1))
	}
}

func TestLoadKeyRing(t *testing.T) {
	dir := t.TempDir()
	r, err := LoadKeyRing("", "", dir)
	if err != nil || !r.FromFile || len(r.Current) != 32 || r.Next != nil || r.Previous != nil {
		t.Fatalf("first start: %+v %v", r, err)
	}
	// A rotation interrupted after secret.key.next was written, and a temp
	// file of one interrupted before.
	next := testKey(9)
	if err := WriteKeyFile(dir, NextKeyFile, next); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, NextKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key.next mode: %v %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(dir, NextKeyFile+".tmp"), []byte("half a k"), 0o600); err != nil {
		t.Fatal(err)
	}
	r2, err := LoadKeyRing("", hex.EncodeToString(testKey(7)), dir)
	if err != nil || !bytes.Equal(r2.Current, r.Current) || !bytes.Equal(r2.Next, next) || len(r2.Previous) != 1 {
		t.Fatalf("restart: %+v %v", r2, err)
	}
	if _, err := os.Stat(filepath.Join(dir, NextKeyFile+".tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temp key file kept: %v", err)
	}
	s, _ := r2.Sealer()
	if s.Keys() != 3 {
		t.Fatalf("ring of %d keys; want next, current, previous", s.Keys())
	}
	if v, _ := s.Seal("x"); !opens(next, v) {
		t.Fatal("with a rotation pending the ring must seal with the new key")
	}
	if _, err := LoadKeyRing("", "not a key", dir); err == nil || !strings.Contains(err.Error(), "secret_key_previous") {
		t.Fatalf("bad previous key: %v", err)
	}
	// A configured key ignores the key files.
	r3, err := LoadKeyRing(hex.EncodeToString(testKey(5)), "", dir)
	if err != nil || r3.FromFile || r3.Next != nil || !bytes.Equal(r3.Current, testKey(5)) {
		t.Fatalf("configured: %+v %v", r3, err)
	}
}

func opens(key, sealed []byte) bool {
	s, _ := NewSealer(key)
	_, err := s.Open(sealed)
	return err == nil
}

// TestKeyRotation runs the rotation suite on every backend.
func TestKeyRotation(t *testing.T) {
	runOnBackends(t, []suiteTest{
		{"reseal_all_or_nothing", testResealAllOrNothing},
		{"reseal_refuses_unopenable", testResealRefusesUnopenable},
		{"rotate_key_file", testRotateKeyFile},
		{"rotate_key_file_fault_changes_nothing", testRotateKeyFileFault},
		{"rotate_key_file_refused", testRotateKeyFileRefused},
		{"recover_rolls_back_before_commit", testRecoverRollsBack},
		{"recover_finishes_half_resealed", testRecoverFinishesHalf},
		{"recover_finishes_after_commit", testRecoverAfterCommit},
		{"rotate_configured_key", testRotateConfigured},
	})
}

// seedCredentials registers n accounts with credentials sealed by key,
// and one without a credential; it returns the plaintexts by account id.
func seedCredentials(t *testing.T, c *Catalog, key []byte, n int) map[uint64]string {
	t.Helper()
	ctx := context.Background()
	s, _ := NewSealer(key)
	out := map[uint64]string{}
	for i := 0; i < n; i++ {
		plain := fmt.Sprintf("EAAJtoken-%d-%x", i, key[:2])
		sealed, err := s.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		a := &Account{Platform: "facebook", Handle: fmt.Sprint("page", i), NativeID: fmt.Sprint(1000 + i), CredentialEnc: sealed}
		if err := c.CreateAccount(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
		out[a.ID] = plain
	}
	if err := c.CreateAccount(ctx, &Account{Platform: "feed", Handle: "https://example.org/feed", NativeID: "f"}, "test"); err != nil {
		t.Fatal(err)
	}
	return out
}

func credentialBytes(t *testing.T, c *Catalog) map[uint64][]byte {
	t.Helper()
	as, err := c.ListAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64][]byte{}
	for _, a := range as {
		out[a.ID] = a.CredentialEnc
	}
	return out
}

func sameCredentials(t *testing.T, before, after map[uint64][]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%d accounts before, %d after", len(before), len(after))
	}
	for id, b := range before {
		if !bytes.Equal(b, after[id]) {
			t.Fatalf("account %d's credential changed", id)
		}
	}
}

// allOpenWith checks every credential opens with key, to its plaintext,
// and with no other key of others.
func allOpenWith(t *testing.T, c *Catalog, key []byte, plain map[uint64]string, others ...[]byte) {
	t.Helper()
	s, _ := NewSealer(key)
	for id, v := range credentialBytes(t, c) {
		want, has := plain[id]
		if !has {
			if len(v) != 0 {
				t.Fatalf("account %d gained a credential", id)
			}
			continue
		}
		got, err := s.Open(v)
		if err != nil || got != want {
			t.Fatalf("account %d: open with key %s: %q %v", id, Fingerprint(key), got, err)
		}
		for _, o := range others {
			if opens(o, v) {
				t.Fatalf("account %d still opens with key %s", id, Fingerprint(o))
			}
		}
	}
}

func custodyCount(t *testing.T, c *Catalog) uint64 {
	t.Helper()
	n, err := c.VerifyCustody(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testResealAllOrNothing(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	k1, k2 := testKey(1), testKey(2)
	plain := seedCredentials(t, c, k1, 4)
	before, events := credentialBytes(t, c), custodyCount(t, c)
	from, _ := NewSealer(k1)
	to, _ := NewSealer(k2)
	faulted := 0
	_, err := c.ResealCredentials(ctx, from, to, ResealOptions{
		Event: rotationEvent("test", "key file", k1, k2, nil),
		Fault: func(done int) error {
			faulted = done
			if done == 2 {
				return errors.New("injected crash")
			}
			return nil
		}})
	if err == nil || faulted != 2 {
		t.Fatalf("a fault after 2 of 4: %v (hook at %d)", err, faulted)
	}
	sameCredentials(t, before, credentialBytes(t, c))
	if n := custodyCount(t, c); n != events {
		t.Fatalf("custody events %d → %d after a rolled-back re-seal", events, n)
	}
	// Without the fault every value moves, once.
	n, err := c.ResealCredentials(ctx, from, to, ResealOptions{Event: rotationEvent("test", "key file", k1, k2, nil)})
	if err != nil || n != 4 {
		t.Fatalf("re-seal: %d %v", n, err)
	}
	allOpenWith(t, c, k2, plain, k1)
	ring, _ := NewSealer(k2, k1)
	if n, err := c.ResealCredentials(ctx, ring, to, ResealOptions{}); err != nil || n != 0 {
		t.Fatalf("a second re-seal found %d to do (%v); want 0", n, err)
	}
}

func testResealRefusesUnopenable(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	k1, k2, k3 := testKey(1), testKey(2), testKey(3)
	seedCredentials(t, c, k1, 2)
	stranger, _ := NewSealer(k3)
	sealed, _ := stranger.Seal("sealed with a lost key")
	a := &Account{Platform: "x", Handle: "lost", NativeID: "7", CredentialEnc: sealed}
	if err := c.CreateAccount(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	before := credentialBytes(t, c)
	from, _ := NewSealer(k1)
	to, _ := NewSealer(k2)
	_, err := c.ResealCredentials(ctx, from, to, ResealOptions{})
	var ue *UnopenableError
	if !errors.As(err, &ue) || len(ue.AccountIDs) != 1 || ue.AccountIDs[0] != a.ID || !strings.Contains(err.Error(), fmt.Sprint(a.ID)) {
		t.Fatalf("want an UnopenableError naming account %d, got %v", a.ID, err)
	}
	sameCredentials(t, before, credentialBytes(t, c))
	counts, err := c.CredentialKeys(ctx, from)
	if !errors.As(err, &ue) || counts[0] != 2 {
		t.Fatalf("CredentialKeys: %v %v", counts, err)
	}
}

func testRotateKeyFile(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := LoadKeyRing("", "", dir)
	if err != nil {
		t.Fatal(err)
	}
	old := r.Current
	plain := seedCredentials(t, c, old, 3)
	events := custodyCount(t, c)
	rot, err := c.RotateKeyFile(ctx, r, RotateOptions{Actor: "cli:key-rotate"})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Resealed != 3 || rot.OldFingerprint != Fingerprint(old) || rot.NewFingerprint == rot.OldFingerprint {
		t.Fatalf("rotation: %+v", rot)
	}
	r2, err := LoadKeyRing("", "", dir)
	if err != nil || bytes.Equal(r2.Current, old) || r2.Next != nil || Fingerprint(r2.Current) != rot.NewFingerprint || !bytes.Equal(r.Current, r2.Current) {
		t.Fatalf("key file after rotation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, NextKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("secret.key.next left behind: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, SecretKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key mode %v", fi.Mode().Perm())
	}
	allOpenWith(t, c, r2.Current, plain, old)
	if n := custodyCount(t, c); n != events+1 {
		t.Fatalf("custody events %d → %d; want one more", events, n)
	}
	evs, _ := c.CustodyEvents(ctx, "credential_key", rot.NewFingerprint)
	if len(evs) != 1 || evs[0].Kind != KeyRotatedEvent || evs[0].Actor != "cli:key-rotate" ||
		!strings.Contains(evs[0].Details, `"credentials_resealed":3`) || !strings.Contains(evs[0].Details, rot.OldFingerprint) {
		t.Fatalf("custody event: %+v", evs)
	}
	for _, k := range [][]byte{old, r2.Current} {
		if strings.Contains(evs[0].Details, hex.EncodeToString(k)) {
			t.Fatal("the custody event holds a key")
		}
	}
}

func testRotateKeyFileFault(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, _ := LoadKeyRing("", "", dir)
	old := r.Current
	plain := seedCredentials(t, c, old, 4)
	before, events := credentialBytes(t, c), custodyCount(t, c)
	_, err := c.RotateKeyFile(ctx, r, RotateOptions{Actor: "cli:key-rotate", Fault: func(done int) error {
		if done == 2 {
			return errors.New("injected crash")
		}
		return nil
	}})
	if err == nil {
		t.Fatal("the fault went unreported")
	}
	sameCredentials(t, before, credentialBytes(t, c))
	if n := custodyCount(t, c); n != events {
		t.Fatalf("custody events %d → %d", events, n)
	}
	if _, err := os.Stat(filepath.Join(dir, NextKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("secret.key.next left behind after a rolled-back rotation: %v", err)
	}
	r2, _ := LoadKeyRing("", "", dir)
	if !bytes.Equal(r2.Current, old) || !bytes.Equal(r.Current, old) || r.Next != nil {
		t.Fatal("the key changed although the rotation failed")
	}
	allOpenWith(t, c, old, plain)
}

func testRotateKeyFileRefused(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, _ := LoadKeyRing("", "", dir)
	seedCredentials(t, c, r.Current, 2)
	lost, _ := NewSealer(testKey(3))
	sealed, _ := lost.Seal("lost")
	a := &Account{Platform: "x", Handle: "lost", NativeID: "7", CredentialEnc: sealed}
	if err := c.CreateAccount(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	keyFile, _ := os.ReadFile(filepath.Join(dir, SecretKeyFile))
	before, events := credentialBytes(t, c), custodyCount(t, c)
	_, err := c.RotateKeyFile(ctx, r, RotateOptions{Actor: "cli:key-rotate"})
	var ue *UnopenableError
	if !errors.As(err, &ue) || ue.AccountIDs[0] != a.ID {
		t.Fatalf("want a refusal naming account %d, got %v", a.ID, err)
	}
	sameCredentials(t, before, credentialBytes(t, c))
	after, _ := os.ReadFile(filepath.Join(dir, SecretKeyFile))
	if !bytes.Equal(keyFile, after) || custodyCount(t, c) != events {
		t.Fatal("a refused rotation changed something")
	}
	if _, err := os.Stat(filepath.Join(dir, NextKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused rotation wrote secret.key.next")
	}
}

// crashAfterNextKey leaves what a crash right after step 1 leaves: the new
// key in secret.key.next; resealIDs are re-sealed with it (committed) as
// if the crash came later.
func crashAfterNextKey(t *testing.T, c *Catalog, dir string, old []byte, resealIDs []uint64) []byte {
	t.Helper()
	next, _ := NewKey()
	if err := WriteKeyFile(dir, NextKeyFile, next); err != nil {
		t.Fatal(err)
	}
	if resealIDs != nil {
		from, _ := NewSealer(old)
		to, _ := NewSealer(next)
		if n, err := c.ResealCredentials(context.Background(), from, to, ResealOptions{AccountIDs: resealIDs}); err != nil || n != len(resealIDs) {
			t.Fatalf("partial re-seal: %d %v", n, err)
		}
	}
	return next
}

func testRecoverRollsBack(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, _ := LoadKeyRing("", "", dir)
	old := r.Current
	plain := seedCredentials(t, c, old, 3)
	crashAfterNextKey(t, c, dir, old, nil)
	before, events := credentialBytes(t, c), custodyCount(t, c)

	r2, _ := LoadKeyRing("", "", dir)
	if r2.Next == nil {
		t.Fatal("the pending rotation was not seen")
	}
	rec, err := c.RecoverKeyRotation(ctx, r2, "system:key-recovery")
	if err != nil || rec.Outcome != "rolled_back" || r2.Next != nil || !bytes.Equal(r2.Current, old) {
		t.Fatalf("recovery: %+v %v", rec, err)
	}
	if _, err := os.Stat(filepath.Join(dir, NextKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a rolled-back rotation kept secret.key.next")
	}
	sameCredentials(t, before, credentialBytes(t, c))
	if custodyCount(t, c) != events {
		t.Fatal("a roll back wrote a custody event")
	}
	allOpenWith(t, c, old, plain)
	r3, _ := LoadKeyRing("", "", dir)
	if r3.Next != nil || !bytes.Equal(r3.Current, old) {
		t.Fatal("the next start sees a different key")
	}
}

func testRecoverFinishesHalf(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, _ := LoadKeyRing("", "", dir)
	old := r.Current
	plain := seedCredentials(t, c, old, 4)
	var half []uint64
	for id := range plain {
		if len(half) < 2 {
			half = append(half, id)
		}
	}
	next := crashAfterNextKey(t, c, dir, old, half)
	events := custodyCount(t, c)

	r2, _ := LoadKeyRing("", "", dir)
	s, _ := r2.Sealer()
	counts, err := c.CredentialKeys(ctx, s)
	if err != nil || counts[0] != 2 || counts[1] != 2 {
		t.Fatalf("before recovery the ring opens everything: %v %v", counts, err)
	}
	rec, err := c.RecoverKeyRotation(ctx, r2, "system:key-recovery")
	if err != nil || rec.Outcome != "finished" || rec.Resealed != 2 || !bytes.Equal(r2.Current, next) || r2.Next != nil {
		t.Fatalf("recovery: %+v %v", rec, err)
	}
	allOpenWith(t, c, next, plain, old)
	r3, _ := LoadKeyRing("", "", dir)
	if !bytes.Equal(r3.Current, next) || r3.Next != nil {
		t.Fatal("secret.key was not switched")
	}
	if custodyCount(t, c) != events+1 {
		t.Fatal("the finishing re-seal wrote no custody event")
	}
	evs, _ := c.CustodyEvents(ctx, "credential_key", Fingerprint(next))
	if len(evs) != 1 || evs[0].Actor != "system:key-recovery" || !strings.Contains(evs[0].Details, "finished_after_interruption") {
		t.Fatalf("custody: %+v", evs)
	}
}

func testRecoverAfterCommit(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	dir := t.TempDir()
	r, _ := LoadKeyRing("", "", dir)
	old := r.Current
	plain := seedCredentials(t, c, old, 3)
	var all []uint64
	for id := range plain {
		all = append(all, id)
	}
	next := crashAfterNextKey(t, c, dir, old, all) // crash between the commit and the rename
	before, events := credentialBytes(t, c), custodyCount(t, c)
	r2, _ := LoadKeyRing("", "", dir)
	rec, err := c.RecoverKeyRotation(ctx, r2, "system:key-recovery")
	if err != nil || rec.Outcome != "finished" || rec.Resealed != 0 {
		t.Fatalf("recovery: %+v %v", rec, err)
	}
	sameCredentials(t, before, credentialBytes(t, c))
	if custodyCount(t, c) != events {
		t.Fatal("nothing was re-sealed, yet a custody event was written")
	}
	r3, _ := LoadKeyRing("", "", dir)
	if !bytes.Equal(r3.Current, next) {
		t.Fatal("secret.key was not switched")
	}
	allOpenWith(t, c, next, plain, old)
}

func testRotateConfigured(t *testing.T, c *Catalog, _ Options) {
	ctx := context.Background()
	k1, k0, k2 := testKey(1), testKey(4), testKey(2)
	plain := seedCredentials(t, c, k1, 2)
	// One value still under the key before (secret_key_previous).
	older, _ := NewSealer(k0)
	sealed, _ := older.Seal("from before")
	a := &Account{Platform: "x", Handle: "older", NativeID: "9", CredentialEnc: sealed}
	if err := c.CreateAccount(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	plain[a.ID] = "from before"
	r, err := LoadKeyRing(hex.EncodeToString(k1), hex.EncodeToString(k0), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKeyFile(ctx, r, RotateOptions{Actor: "x"}); err == nil {
		t.Fatal("RotateKeyFile on a configured key")
	}
	rot, err := c.RotateToKey(ctx, r, k2, RotateOptions{Actor: "cli:key-rotate"})
	if err != nil || rot.Resealed != 3 || rot.NewFingerprint != Fingerprint(k2) || rot.OldFingerprint != Fingerprint(k1) {
		t.Fatalf("rotate: %+v %v", rot, err)
	}
	allOpenWith(t, c, k2, plain, k1, k0)
	evs, _ := c.CustodyEvents(ctx, "credential_key", Fingerprint(k2))
	if len(evs) != 1 || strings.Contains(evs[0].Details, hex.EncodeToString(k2)) {
		t.Fatalf("custody: %+v", evs)
	}
}
