package storage

// Credential key rotation.
//
// With the key file (no secret_key setting), `civicarchive key rotate`
// changes keys in three steps, each of which leaves something every
// credential opens with:
//
//  1. the new key is written to DATA_DIR/secret.key.next (through a temp
//     file, fsynced, renamed, directory fsynced): from here on a start
//     knows both keys;
//  2. every credential is re-sealed with the new key, with the custody
//     event, in ONE catalog transaction: the catalog holds either only old
//     values or only new ones;
//  3. secret.key.next is renamed over secret.key (atomic) and the directory
//     fsynced: the old key is gone.
//
// A crash between 1 and 3 leaves secret.key.next behind. LoadKeyRing then
// loads both keys, and RecoverKeyRotation settles the rotation before
// anything else uses the keys: when no credential is sealed with the new
// key (the crash came before step 2 committed) it rolls back, deleting
// secret.key.next; otherwise it finishes, re-sealing whatever the old key
// still seals (nothing, after a committed step 2) and doing step 3.
//
// With secret_key configured the key lives outside the data directory, so
// the command cannot switch it: it prints the new key first, then re-seals
// in one transaction, and the operator sets CIVICARCHIVE_SECRET_KEY to the
// new key and CIVICARCHIVE_SECRET_KEY_PREVIOUS to the old one (a key that
// only opens) until the server has started once with them.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// NextKeyFile is the new key of a rotation in progress, in the data dir.
const NextKeyFile = SecretKeyFile + ".next"

// KeyRotatedEvent is the custody event kind of a key change.
const KeyRotatedEvent = "credential_key_rotated"

// KeyRing is the set of keys credentials are sealed with.
type KeyRing struct {
	// Current seals new credentials (secret_key, or DATA_DIR/secret.key).
	Current []byte
	// Previous keys only open (secret_key_previous).
	Previous [][]byte
	// Next is the new key of a rotation a crash interrupted
	// (DATA_DIR/secret.key.next); RecoverKeyRotation settles it.
	Next []byte
	// FromFile: Current is DATA_DIR/secret.key (secret_key is not set).
	FromFile bool
	// DataDir holds the key files.
	DataDir string
}

// LoadKeyRing loads the keys: configured (secret_key) or else the key file
// (created on first start, see LoadSecretKey), plus previous
// (secret_key_previous) when set. With the key file, a secret.key.next
// left by an interrupted rotation is loaded as Next, and a temp file of a
// rotation that never got as far as secret.key.next is removed.
func LoadKeyRing(configured, previous, dataDir string) (*KeyRing, error) {
	r := &KeyRing{FromFile: configured == "", DataDir: dataDir}
	cur, err := LoadSecretKey(configured, dataDir)
	if err != nil {
		return nil, err
	}
	r.Current = cur
	if previous != "" {
		p, err := decodeKey(previous)
		if err != nil {
			return nil, fmt.Errorf("secret_key_previous: %w", err)
		}
		r.Previous = append(r.Previous, p)
	}
	if !r.FromFile {
		return r, nil
	}
	// The temp file is only ever renamed to secret.key.next before any
	// credential changes: one left behind is garbage.
	if err := os.Remove(filepath.Join(dataDir, NextKeyFile+".tmp")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("storage: remove stale %s.tmp: %w", NextKeyFile, err)
	}
	path := filepath.Join(dataDir, NextKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("storage: read %s: %w", path, err)
	default:
		next, err := decodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %w", path, err)
		}
		r.Next = next
	}
	return r, nil
}

// Sealer builds the ring's sealer: it seals with Next when a rotation is
// pending, else with Current, and opens with every key.
func (r *KeyRing) Sealer() (*Sealer, error) {
	keys := r.openKeys()
	return NewSealer(keys[0], keys[1:]...)
}

// openKeys lists the keys, the sealing one first.
func (r *KeyRing) openKeys() [][]byte {
	var keys [][]byte
	if r.Next != nil {
		keys = append(keys, r.Next)
	}
	keys = append(keys, r.Current)
	return append(keys, r.Previous...)
}

// Fingerprint names a key without revealing it: the first 8 hex digits of
// its SHA-256.
func Fingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// NewKey makes a random 32-byte key.
func NewKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// UnopenableError names the accounts whose credentials no key of the ring
// opens.
type UnopenableError struct {
	AccountIDs []uint64
}

func (e *UnopenableError) Error() string {
	ids := make([]string, len(e.AccountIDs))
	for i, id := range e.AccountIDs {
		ids[i] = fmt.Sprint(id)
	}
	return "storage: no key opens the credential of account(s) " + strings.Join(ids, ", ")
}

// CredentialKeys opens every stored credential with s and counts them by
// the key of the ring that opened each (0: the sealing key). Accounts
// without a credential are not counted. When some credential opens with no
// key, it returns the counts and an *UnopenableError naming those accounts.
func (c *Catalog) CredentialKeys(ctx context.Context, s *Sealer) ([]int, error) {
	var rows []Account
	if err := c.gdb(ctx).Select("id", "credential_enc").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: read credentials: %w", err)
	}
	counts := make([]int, s.Keys())
	var bad []uint64
	for _, a := range rows {
		_, k, err := s.OpenKey(a.CredentialEnc)
		switch {
		case err != nil:
			bad = append(bad, a.ID)
		case k >= 0:
			counts[k]++
		}
	}
	if len(bad) > 0 {
		return counts, &UnopenableError{AccountIDs: bad}
	}
	return counts, nil
}

// ResealOptions tune ResealCredentials.
type ResealOptions struct {
	// AccountIDs limits the work to these accounts (nil: every account).
	AccountIDs []uint64
	// Event, when set, makes the custody event committed with the re-sealed
	// values; it gets their number and may return nil for no event.
	Event func(resealed int) *NewEvent
	// Fault is a test hook called after each value is re-sealed (inside
	// the transaction); an error aborts the whole transaction.
	Fault func(done int) error
}

// ResealCredentials re-seals, in one transaction, every stored credential
// that to's sealing key does not open already: opened with from, sealed
// with to. It is all or nothing: a credential from cannot open (an
// *UnopenableError naming every such account), a database error or a
// fault leaves every value as it was. It returns how many it re-sealed.
func (c *Catalog) ResealCredentials(ctx context.Context, from, to *Sealer, o ResealOptions) (int, error) {
	// The sealing key alone tells what is done already.
	sealing := &Sealer{aeads: to.aeads[:1]}
	n := 0
	err := c.Tx(ctx, func(tx *Catalog) error {
		q := tx.gdb(ctx).Select("id", "credential_enc").Where("credential_enc IS NOT NULL")
		if o.AccountIDs != nil {
			q = q.Where("id IN ?", o.AccountIDs)
		}
		var rows []Account
		if err := q.Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("storage: read credentials: %w", err)
		}
		type change struct {
			id     uint64
			sealed []byte
		}
		var changes []change
		var bad []uint64
		for _, a := range rows {
			if len(a.CredentialEnc) == 0 {
				continue
			}
			if _, _, err := sealing.OpenKey(a.CredentialEnc); err == nil {
				continue // already sealed with the new key
			}
			plain, _, err := from.OpenKey(a.CredentialEnc)
			if err != nil {
				bad = append(bad, a.ID)
				continue
			}
			sealed, err := to.Seal(plain)
			if err != nil {
				return err
			}
			changes = append(changes, change{a.ID, sealed})
		}
		if len(bad) > 0 {
			sort.Slice(bad, func(i, j int) bool { return bad[i] < bad[j] })
			return &UnopenableError{AccountIDs: bad}
		}
		for i, ch := range changes {
			// UpdateColumn: the values change, nothing else about the account.
			res := tx.gdb(ctx).Model(&Account{}).Where("id = ?", ch.id).UpdateColumn("credential_enc", ch.sealed)
			if res.Error != nil {
				return fmt.Errorf("storage: re-seal account %d: %w", ch.id, res.Error)
			}
			if res.RowsAffected != 1 {
				return fmt.Errorf("storage: re-seal account %d: %d rows changed", ch.id, res.RowsAffected)
			}
			if o.Fault != nil {
				if err := o.Fault(i + 1); err != nil {
					return err
				}
			}
		}
		n = len(changes)
		if o.Event != nil {
			if ev := o.Event(n); ev != nil {
				if _, err := tx.AppendCustody(ctx, *ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Rotation is what a key change did.
type Rotation struct {
	Resealed       int
	OldFingerprint string
	NewFingerprint string
}

// RotateOptions tune a rotation.
type RotateOptions struct {
	// Actor is named in the custody event.
	Actor string
	// Fault is ResealOptions.Fault (tests).
	Fault func(done int) error
}

// rotationEvent is the custody event of a key change: counts and
// fingerprints, never a key.
func rotationEvent(actor, mode string, oldKey, newKey []byte, extra map[string]any) func(int) *NewEvent {
	return func(n int) *NewEvent {
		d := map[string]any{"credentials_resealed": n, "old_key_fingerprint": Fingerprint(oldKey),
			"new_key_fingerprint": Fingerprint(newKey), "key_source": mode}
		for k, v := range extra {
			d[k] = v
		}
		return &NewEvent{Kind: KeyRotatedEvent, Actor: actor, SubjectType: "credential_key", SubjectID: Fingerprint(newKey), Details: d}
	}
}

// checkRing refuses a rotation when some credential opens with no key of
// the ring (before anything changes).
func (c *Catalog) checkRing(ctx context.Context, r *KeyRing) (*Sealer, error) {
	if r.Next != nil {
		return nil, errors.New("storage: a key rotation is pending (secret.key.next): settle it first (RecoverKeyRotation)")
	}
	old, err := r.Sealer()
	if err != nil {
		return nil, err
	}
	if _, err := c.CredentialKeys(ctx, old); err != nil {
		return nil, err
	}
	return old, nil
}

// RotateToKey re-seals every credential with newKey in one transaction
// with the custody event, for a configured secret_key: the caller must
// have made newKey known to the operator BEFORE (it prints it), since the
// catalog holds only values sealed with it once this returns. It refuses,
// changing nothing, when some credential opens with no key of r.
func (c *Catalog) RotateToKey(ctx context.Context, r *KeyRing, newKey []byte, o RotateOptions) (*Rotation, error) {
	old, err := c.checkRing(ctx, r)
	if err != nil {
		return nil, err
	}
	next, err := NewSealer(newKey)
	if err != nil {
		return nil, err
	}
	n, err := c.ResealCredentials(ctx, old, next, ResealOptions{Fault: o.Fault,
		Event: rotationEvent(o.Actor, "secret_key setting", r.Current, newKey, nil)})
	if err != nil {
		return nil, err
	}
	return &Rotation{Resealed: n, OldFingerprint: Fingerprint(r.Current), NewFingerprint: Fingerprint(newKey)}, nil
}

// RotateKeyFile changes the key file's key: a new random key in
// secret.key.next, every credential re-sealed with it in one transaction
// (with the custody event), then secret.key.next renamed over secret.key.
// It refuses, changing nothing, when some credential opens with no key of
// r. When the re-sealing fails it settles the rotation at once, as a start
// would (RecoverKeyRotation: normally a roll back, removing
// secret.key.next), and returns the error. On success r holds the new key.
func (c *Catalog) RotateKeyFile(ctx context.Context, r *KeyRing, o RotateOptions) (*Rotation, error) {
	if !r.FromFile {
		return nil, errors.New("storage: the key is configured (secret_key), not in the key file")
	}
	old, err := c.checkRing(ctx, r)
	if err != nil {
		return nil, err
	}
	newKey, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := WriteKeyFile(r.DataDir, NextKeyFile, newKey); err != nil {
		return nil, err
	}
	next, err := NewSealer(newKey)
	if err != nil {
		return nil, err
	}
	n, err := c.ResealCredentials(ctx, old, next, ResealOptions{Fault: o.Fault,
		Event: rotationEvent(o.Actor, "key file", r.Current, newKey, nil)})
	if err != nil {
		// Most likely rolled back, and then secret.key.next goes again. But
		// a failed COMMIT may have committed after all: only the catalog
		// can tell, so settle the rotation as a start would, and when even
		// that fails leave secret.key.next for the next start to settle.
		r.Next = newKey
		if _, rerr := c.RecoverKeyRotation(ctx, r, o.Actor); rerr != nil {
			return nil, fmt.Errorf("%w (DATA_DIR/%s is kept; the next start settles the rotation: %v)", err, NextKeyFile, rerr)
		}
		return nil, err
	}
	if err := commitNextKey(r.DataDir); err != nil {
		// The catalog is re-sealed; secret.key.next holds the key and the
		// next start finishes the rotation.
		return nil, fmt.Errorf("%w (the credentials are re-sealed; the next start finishes the rotation)", err)
	}
	rot := &Rotation{Resealed: n, OldFingerprint: Fingerprint(r.Current), NewFingerprint: Fingerprint(newKey)}
	r.Current = newKey
	return rot, nil
}

// Recovery is what RecoverKeyRotation did.
type Recovery struct {
	// Outcome: "" (no rotation pending), "rolled_back" or "finished".
	Outcome string
	// Resealed counts the credentials a finished rotation still had to
	// re-seal (0 when the crash came after the transaction).
	Resealed       int
	OldFingerprint string
	NewFingerprint string
	// Unopenable names accounts whose credential no key opens (they were
	// lost before and are left alone).
	Unopenable []uint64
}

// RecoverKeyRotation settles a rotation a crash interrupted (r.Next set):
//   - no credential sealed with the new key: roll back (the transaction
//     never committed): secret.key.next is removed, the old key stays;
//   - else finish: credentials still sealed with an old key are re-sealed
//     with the new one in one transaction (with a custody event by actor),
//     then secret.key.next is renamed over secret.key.
//
// Either way every credential that opened before opens after, and r is
// left with one current key. A credential no key opens is left as it is
// and named in Recovery.Unopenable: neither outcome can make it worse.
func (c *Catalog) RecoverKeyRotation(ctx context.Context, r *KeyRing, actor string) (Recovery, error) {
	if r.Next == nil {
		return Recovery{}, nil
	}
	rec := Recovery{OldFingerprint: Fingerprint(r.Current), NewFingerprint: Fingerprint(r.Next)}
	ring, err := r.Sealer() // seals with Next, opens with every key
	if err != nil {
		return rec, err
	}
	counts, err := c.CredentialKeys(ctx, ring)
	var ue *UnopenableError
	if errors.As(err, &ue) {
		rec.Unopenable = ue.AccountIDs
	} else if err != nil {
		return rec, err
	}
	if counts[0] == 0 {
		if err := removeKeyFile(r.DataDir, NextKeyFile); err != nil {
			return rec, err
		}
		r.Next = nil
		rec.Outcome = "rolled_back"
		return rec, nil
	}
	var ids []uint64 // every openable account; the unopenable ones stay as they are
	if len(rec.Unopenable) > 0 {
		skip := map[uint64]bool{}
		for _, id := range rec.Unopenable {
			skip[id] = true
		}
		all, err := c.ListAccounts(ctx)
		if err != nil {
			return rec, err
		}
		ids = []uint64{}
		for _, a := range all {
			if !skip[a.ID] {
				ids = append(ids, a.ID)
			}
		}
	}
	ev := rotationEvent(actor, "key file", r.Current, r.Next, map[string]any{"finished_after_interruption": true})
	// After a committed rotation nothing is left to re-seal, and the event
	// is in the log already; else this is the rotation's event.
	n, err := c.ResealCredentials(ctx, ring, ring, ResealOptions{AccountIDs: ids, Event: func(n int) *NewEvent {
		if n == 0 {
			return nil
		}
		return ev(n)
	}})
	if err != nil {
		return rec, err
	}
	rec.Resealed = n
	if err := commitNextKey(r.DataDir); err != nil {
		return rec, err
	}
	r.Current, r.Next = r.Next, nil
	rec.Outcome = "finished"
	return rec, nil
}

// WriteKeyFile writes key (hex) to DIR/name durably: a temp file (0600)
// fsynced, renamed into place, the directory fsynced.
func WriteKeyFile(dir, name string, key []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("storage: create %s: %w", tmp, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("storage: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("storage: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: rename %s: %w", tmp, err)
	}
	return syncDir(dir)
}

// commitNextKey renames secret.key.next over secret.key (atomically) and
// makes the rename durable.
func commitNextKey(dir string) error {
	if err := os.Rename(filepath.Join(dir, NextKeyFile), filepath.Join(dir, SecretKeyFile)); err != nil {
		return fmt.Errorf("storage: switch key file: %w", err)
	}
	return syncDir(dir)
}

func removeKeyFile(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: remove %s: %w", name, err)
	}
	return syncDir(dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: sync %s: %w", dir, err)
	}
	return nil
}
