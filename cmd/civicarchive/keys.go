package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/civicarchive/civicarchive/configs"
	"github.com/civicarchive/civicarchive/storage"
)

// keyRotateActor names `key rotate` in the custody log.
const keyRotateActor = "cli:key-rotate"

// keyRecoveryActor names the start that finishes an interrupted rotation.
const keyRecoveryActor = "system:key-recovery"

func newKeyCmd(e *env, sf *settingsFlags) *cobra.Command {
	key := &cobra.Command{Use: "key", Short: "Manage the key that encrypts platform credentials"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Re-seal every platform credential with a new key (stop the server first)",
		Long: `Re-seal every platform credential with a new random key.

Stop the server first: a server running during the rotation keeps using the
old key, and a credential it stores then is lost with that key.

The command refuses, changing nothing, when some stored credential opens
with none of the current keys, and names those accounts. The credentials
are re-sealed in one catalog transaction with a custody event
(credential_key_rotated: how many, and the keys' fingerprints, never a key).

With the generated key file (secret_key not set): the new key goes to
DATA_DIR/secret.key.next first, then the catalog is re-sealed, then the file
replaces DATA_DIR/secret.key. A crash anywhere in between is settled at the
next start (serve or key rotate): if no credential uses the new key yet the
rotation is rolled back, else it is finished.

With secret_key set: the new key is printed once, BEFORE the catalog is
re-sealed, so that it cannot be lost. Then set CIVICARCHIVE_SECRET_KEY to the
new key and CIVICARCHIVE_SECRET_KEY_PREVIOUS to the old one, and start the
server; it logs when the previous key is no longer needed, and you remove it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := sf.load(e)
			if err != nil {
				return err
			}
			log := newLogger(cfg, e.stderr)
			cat, err := openCatalog(cmd.Context(), cfg, newLogger(cfg, io.Discard))
			if err != nil {
				return err
			}
			defer cat.Close()
			return rotateKey(cmd.Context(), cfg, cat, e.stdout, log)
		},
	}
	key.AddCommand(rotate)
	return key
}

// loadKeyRing loads the keys, naming the setting when one is bad.
func loadKeyRing(cfg configs.Config) (*storage.KeyRing, error) {
	r, err := storage.LoadKeyRing(cfg.SecretKey, cfg.SecretKeyPrevious, cfg.DataDir)
	if err != nil {
		setting := "CIVICARCHIVE_SECRET_KEY (secret_key)"
		if strings.HasPrefix(err.Error(), "secret_key_previous") {
			setting = "CIVICARCHIVE_SECRET_KEY_PREVIOUS (secret_key_previous)"
		}
		return nil, &configs.SettingError{Setting: setting, Msg: err.Error()}
	}
	return r, nil
}

// recoverRotation settles a rotation a crash interrupted, and says so.
func recoverRotation(ctx context.Context, cat *storage.Catalog, r *storage.KeyRing, log *slog.Logger) error {
	rec, err := cat.RecoverKeyRotation(ctx, r, keyRecoveryActor)
	if err != nil {
		return fmt.Errorf("settle the interrupted key rotation (DATA_DIR/%s): %w", storage.NextKeyFile, err)
	}
	switch rec.Outcome {
	case "rolled_back":
		log.Warn("an interrupted key rotation was rolled back: no credential used the new key; the old key stays",
			"key_fingerprint", rec.OldFingerprint, "discarded_key_fingerprint", rec.NewFingerprint)
	case "finished":
		log.Warn("an interrupted key rotation was finished", "resealed", rec.Resealed,
			"old_key_fingerprint", rec.OldFingerprint, "key_fingerprint", rec.NewFingerprint)
	}
	if len(rec.Unopenable) > 0 {
		log.Error("no key opens the credentials of these accounts; register their credentials again", "accounts", rec.Unopenable)
	}
	return nil
}

// openSealer builds serve's credential sealer: it loads the keys, settles
// an interrupted rotation, and says what it finds about the keys.
func openSealer(ctx context.Context, cfg configs.Config, cat *storage.Catalog, log *slog.Logger) (*storage.Sealer, error) {
	r, err := loadKeyRing(cfg)
	if err != nil {
		return nil, err
	}
	if err := recoverRotation(ctx, cat, r, log); err != nil {
		return nil, err
	}
	s, err := r.Sealer()
	if err != nil {
		return nil, err
	}
	counts, err := cat.CredentialKeys(ctx, s)
	var ue *storage.UnopenableError
	switch {
	case errors.As(err, &ue):
		log.Error("no configured key opens the credentials of these accounts: their captures will fail", "accounts", ue.AccountIDs)
	case err != nil:
		return nil, err
	}
	if len(r.Previous) > 0 {
		if old := counts[1]; old > 0 {
			log.Warn("credentials are still sealed with secret_key_previous: keep it set, or re-seal them with civicarchive key rotate (server stopped)", "credentials", old)
		} else {
			log.Info("no credential needs secret_key_previous any more: remove CIVICARCHIVE_SECRET_KEY_PREVIOUS")
		}
	}
	return s, nil
}

// rotateKey is `civicarchive key rotate`.
func rotateKey(ctx context.Context, cfg configs.Config, cat *storage.Catalog, out io.Writer, log *slog.Logger) error {
	r, err := loadKeyRing(cfg)
	if err != nil {
		return err
	}
	if err := recoverRotation(ctx, cat, r, log); err != nil {
		return err
	}
	refused := func(err error) error {
		var ue *storage.UnopenableError
		if errors.As(err, &ue) {
			return fmt.Errorf("key rotate refused, nothing changed: no current key opens the credential of account(s) %s; restore the right key (secret_key, secret_key_previous or DATA_DIR/%s) first",
				joinIDs(ue.AccountIDs), storage.SecretKeyFile)
		}
		return fmt.Errorf("key rotate: %w", err)
	}
	opts := storage.RotateOptions{Actor: keyRotateActor}
	if r.FromFile {
		rot, err := cat.RotateKeyFile(ctx, r, opts)
		if err != nil {
			return refused(err)
		}
		fmt.Fprintf(out, "re-sealed %d credentials; key fingerprint %s → %s\n", rot.Resealed, rot.OldFingerprint, rot.NewFingerprint)
		fmt.Fprintf(out, "The new key is in %s/%s; back it up with the catalog.\n", cfg.DataDir, storage.SecretKeyFile)
		return nil
	}

	// The key lives outside the data dir: check first, then show the new
	// key before a single credential depends on it.
	s, err := r.Sealer()
	if err != nil {
		return err
	}
	if _, err := cat.CredentialKeys(ctx, s); err != nil {
		return refused(err)
	}
	newKey, err := storage.NewKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "New secret key (shown only now; store it where CIVICARCHIVE_SECRET_KEY comes from):\n%s\n", hex.EncodeToString(newKey))
	rot, err := cat.RotateToKey(ctx, r, newKey, opts)
	if err != nil {
		return fmt.Errorf("%w; the catalog should be unchanged: keep CIVICARCHIVE_SECRET_KEY as it is and run key rotate again (if the catalog did change it refuses, changing nothing: then set the key printed above with the old one as CIVICARCHIVE_SECRET_KEY_PREVIOUS)", refused(err))
	}
	fmt.Fprintf(out, "re-sealed %d credentials; key fingerprint %s → %s\n", rot.Resealed, rot.OldFingerprint, rot.NewFingerprint)
	fmt.Fprintf(out, "Now set CIVICARCHIVE_SECRET_KEY to the new key above and CIVICARCHIVE_SECRET_KEY_PREVIOUS to the old key (fingerprint %s), then start the server; once it logs that no credential needs the previous key, remove CIVICARCHIVE_SECRET_KEY_PREVIOUS.\n", rot.OldFingerprint)
	return nil
}

func joinIDs(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}
