package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/civicarchive/civicarchive/archiver/platforms/facebook/facebooktest"
	"github.com/civicarchive/civicarchive/archiver/platforms/platformtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/x/xtest"
	"github.com/civicarchive/civicarchive/archiver/platforms/youtube/youtubetest"
	"github.com/civicarchive/civicarchive/storage"
)

// registered is an account registered through the API against a fake
// platform that checks its credential.
type registered struct {
	id         uint64
	platform   string
	credential string
}

// adminToken makes an admin API token with the real CLI.
func adminToken(t *testing.T, envVars map[string]string, name string) string {
	t.Helper()
	code, out, errOut := cli(t, envVars, "", "token", "create", "--name", name, "--role", "admin")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// registerAccount registers fp's account (with credential instead of its
// own when credential is not empty) and returns it.
func registerAccount(t *testing.T, base, token string, fp fakePlatform, credential string) registered {
	t.Helper()
	a := fp.Account()
	if credential == "" {
		credential = a.Credential
	}
	code, body := apiDo(t, "POST", base+"/api/v1/accounts", token, map[string]string{
		"platform": a.Platform, "handle": a.Handle, "native_id": a.NativeID, "api_base": a.APIBase,
		"credential": credential, "department": "Communications",
	})
	if code != http.StatusCreated {
		t.Fatalf("register %s: %d %s", a.Platform, code, body)
	}
	var acct struct{ ID uint64 }
	json.Unmarshal(body, &acct)
	return registered{id: acct.ID, platform: a.Platform, credential: credential}
}

// credentialWorlds starts fake Facebook, YouTube and X servers, each of
// which refuses any but its own credential.
func credentialWorlds(t *testing.T) []fakePlatform {
	t.Helper()
	var fps []fakePlatform
	for _, start := range []func(*platformtest.World) fakePlatform{
		func(w *platformtest.World) fakePlatform { return facebooktest.NewServer(w) },
		func(w *platformtest.World) fakePlatform { return youtubetest.NewServer(w) },
		func(w *platformtest.World) fakePlatform { return xtest.NewServer(w) },
	} {
		w := platformtest.NewWorld(time.Now().Add(-48*time.Hour), platformtest.Profile{ID: "42", Handle: "clintoncity", DisplayName: "Clinton City"})
		platformtest.Seed(w)
		fp := start(w)
		t.Cleanup(fp.Close)
		fps = append(fps, fp)
	}
	return fps
}

// captureAll runs a full capture of every account and wants want.
func captureAll(t *testing.T, base, token string, accts []registered, want string) {
	t.Helper()
	for _, a := range accts {
		if run := captureAndWait(t, base, token, a.id, "full"); run["status"] != want {
			t.Fatalf("capture of %s account %d: %v; want %s", a.platform, a.id, run, want)
		}
	}
}

// openCatalogAt opens the data dir's catalog (the server stopped).
func openCatalogAt(t *testing.T, data string) *storage.Catalog {
	t.Helper()
	cat, err := storage.Open(context.Background(), storage.Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// keyFile reads DATA_DIR/secret.key.
func keyFile(t *testing.T, data string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, storage.SecretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		t.Fatalf("secret.key: %v", err)
	}
	return k
}

// checkSealedWith opens every account's stored credential: each must open
// with key, to the credential registered, and with none of others.
func checkSealedWith(t *testing.T, data string, accts []registered, key []byte, others ...[]byte) {
	t.Helper()
	cat := openCatalogAt(t, data)
	defer cat.Close()
	s, _ := storage.NewSealer(key)
	for _, a := range accts {
		acct, err := cat.AccountByID(context.Background(), a.id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Open(acct.CredentialEnc); err != nil || got != a.credential {
			t.Fatalf("account %d does not open with key %s: %v", a.id, storage.Fingerprint(key), err)
		}
		for _, o := range others {
			older, _ := storage.NewSealer(o)
			if _, err := older.Open(acct.CredentialEnc); err == nil {
				t.Fatalf("account %d still opens with the old key %s", a.id, storage.Fingerprint(o))
			}
		}
	}
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (%v)", path, err)
	}
}

var rotatedRE = regexp.MustCompile(`re-sealed (\d+) credentials; key fingerprint ([0-9a-f]{8}) → ([0-9a-f]{8})`)

// The operator's path with the generated key file: accounts with
// credentials captured, server stopped, key rotate, server started again
// and every platform still accepts what the archive sends; the old key
// opens nothing; a rotation cut short at either point is settled by the
// next start; a credential no key opens makes key rotate refuse.
func TestKeyRotateKeyFile(t *testing.T) {
	data := t.TempDir()
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data, "CIVICARCHIVE_SCHEDULER": "off"}
	base, stop := startServer(t, envVars)
	token := adminToken(t, envVars, "keys")
	var accts []registered
	for _, fp := range credentialWorlds(t) {
		accts = append(accts, registerAccount(t, base, token, fp, ""))
	}
	captureAll(t, base, token, accts, "succeeded")
	stop()

	old := keyFile(t, data)
	checkSealedWith(t, data, accts, old)
	code, out, errOut := cli(t, envVars, "", "key", "rotate")
	if code != 0 {
		t.Fatalf("key rotate: %d %s %s", code, out, errOut)
	}
	m := rotatedRE.FindStringSubmatch(out)
	if m == nil || m[1] != "3" {
		t.Fatalf("key rotate said %q; want re-sealed 3 credentials with fingerprints", out)
	}
	cur := keyFile(t, data)
	if m[2] != storage.Fingerprint(old) || m[3] != storage.Fingerprint(cur) || bytes.Equal(old, cur) {
		t.Fatalf("fingerprints %s → %s; key file %s → %s", m[2], m[3], storage.Fingerprint(old), storage.Fingerprint(cur))
	}
	for _, k := range [][]byte{old, cur} {
		if strings.Contains(out+errOut, hex.EncodeToString(k)) {
			t.Fatal("key rotate printed a key of the key file")
		}
	}
	noFile(t, filepath.Join(data, storage.NextKeyFile))
	checkSealedWith(t, data, accts, cur, old)

	// The custody log holds the rotation, with fingerprints and no key.
	if code, out, _ := cli(t, envVars, "", "custody", "verify"); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("custody verify: %d %s", code, out)
	}
	cat := openCatalogAt(t, data)
	evs, _ := cat.CustodyEvents(context.Background(), "credential_key", storage.Fingerprint(cur))
	cat.Close()
	if len(evs) != 1 || evs[0].Kind != "credential_key_rotated" || evs[0].Actor != "cli:key-rotate" ||
		!strings.Contains(evs[0].Details, `"credentials_resealed":3`) || !strings.Contains(evs[0].Details, storage.Fingerprint(old)) ||
		strings.Contains(evs[0].Details, hex.EncodeToString(cur)) || strings.Contains(evs[0].Details, hex.EncodeToString(old)) {
		t.Fatalf("custody event: %+v", evs)
	}

	base, stop = startServer(t, envVars)
	captureAll(t, base, token, accts, "succeeded")
	stop()

	t.Run("crash after half the rows", func(t *testing.T) {
		// What no real rotation leaves (it re-seals in one transaction),
		// and the worst a start can meet: the new key in
		// secret.key.next, one credential sealed with it, the others not.
		old := keyFile(t, data)
		next, _ := storage.NewKey()
		if err := storage.WriteKeyFile(data, storage.NextKeyFile, next); err != nil {
			t.Fatal(err)
		}
		cat := openCatalogAt(t, data)
		from, _ := storage.NewSealer(old)
		to, _ := storage.NewSealer(next)
		if n, err := cat.ResealCredentials(context.Background(), from, to, storage.ResealOptions{AccountIDs: []uint64{accts[0].id}}); err != nil || n != 1 {
			t.Fatalf("half re-seal: %d %v", n, err)
		}
		cat.Close()

		base, stop, logs := startServerLogs(t, envVars)
		captureAll(t, base, token, accts, "succeeded")
		stop()
		if !strings.Contains(logs.String(), "an interrupted key rotation was finished") {
			t.Fatalf("the start did not say it finished the rotation:\n%s", logs.String())
		}
		if cur := keyFile(t, data); !bytes.Equal(cur, next) {
			t.Fatal("the finished rotation did not switch secret.key")
		}
		noFile(t, filepath.Join(data, storage.NextKeyFile))
		checkSealedWith(t, data, accts, next, old)
	})

	t.Run("crash before the transaction committed", func(t *testing.T) {
		old := keyFile(t, data)
		next, _ := storage.NewKey()
		if err := storage.WriteKeyFile(data, storage.NextKeyFile, next); err != nil {
			t.Fatal(err)
		}
		cat := openCatalogAt(t, data)
		from, _ := storage.NewSealer(old)
		to, _ := storage.NewSealer(next)
		_, err := cat.ResealCredentials(context.Background(), from, to, storage.ResealOptions{Fault: func(done int) error {
			if done == 2 {
				return errors.New("power cut")
			}
			return nil
		}})
		cat.Close()
		if err == nil {
			t.Fatal("the fault was not reported")
		}
		base, stop, logs := startServerLogs(t, envVars)
		captureAll(t, base, token, accts, "succeeded")
		stop()
		if !strings.Contains(logs.String(), "an interrupted key rotation was rolled back") {
			t.Fatalf("the start did not say it rolled the rotation back:\n%s", logs.String())
		}
		if cur := keyFile(t, data); !bytes.Equal(cur, old) {
			t.Fatal("a rolled-back rotation changed secret.key")
		}
		noFile(t, filepath.Join(data, storage.NextKeyFile))
		checkSealedWith(t, data, accts, old, next)
	})

	t.Run("refused when a credential opens with no key", func(t *testing.T) {
		cat := openCatalogAt(t, data)
		lost, _ := storage.NewKey()
		ls, _ := storage.NewSealer(lost)
		sealed, _ := ls.Seal("a token sealed with a key nobody has")
		a := &storage.Account{Platform: "x", Handle: "lostkey", NativeID: "77", CredentialEnc: sealed}
		if err := cat.CreateAccount(context.Background(), a, "test"); err != nil {
			t.Fatal(err)
		}
		cat.Close()
		before, _ := os.ReadFile(filepath.Join(data, storage.SecretKeyFile))
		code, out, errOut := cli(t, envVars, "", "key", "rotate")
		if code != 1 || !strings.Contains(errOut, fmt.Sprintf("account(s) %d", a.ID)) || !strings.Contains(errOut, "nothing changed") {
			t.Fatalf("key rotate with an unopenable credential: %d %q %q", code, out, errOut)
		}
		after, _ := os.ReadFile(filepath.Join(data, storage.SecretKeyFile))
		if !bytes.Equal(before, after) {
			t.Fatal("a refused rotation changed secret.key")
		}
		noFile(t, filepath.Join(data, storage.NextKeyFile))
		checkSealedWith(t, data, accts, keyFile(t, data))
	})

	if code, _, errOut := cli(t, envVars, "", "key", "rotate", "--help"); code != 0 || errOut != "" {
		t.Fatalf("key rotate --help: %d %s", code, errOut)
	}
	if _, out, _ := cli(t, envVars, "", "key", "rotate", "--help"); !strings.Contains(out, "Stop the server first") {
		t.Fatalf("key rotate --help does not say to stop the server: %s", out)
	}
}

// With secret_key configured: key rotate prints the new key once (before
// it re-seals), the old key alone no longer opens the credentials, the new
// key with secret_key_previous does, and so does the new key alone.
func TestKeyRotateConfiguredKey(t *testing.T) {
	data := t.TempDir()
	oldKey, _ := storage.NewKey()
	oldHex := hex.EncodeToString(oldKey)
	envVars := map[string]string{"CIVICARCHIVE_DATA_DIR": data, "CIVICARCHIVE_SCHEDULER": "off", "CIVICARCHIVE_SECRET_KEY": oldHex}
	base, stop := startServer(t, envVars)
	token := adminToken(t, envVars, "keys")
	var accts []registered
	for _, fp := range credentialWorlds(t)[1:] {
		accts = append(accts, registerAccount(t, base, token, fp, ""))
	}
	captureAll(t, base, token, accts, "succeeded")
	stop()

	code, out, errOut := cli(t, envVars, "", "key", "rotate")
	if code != 0 {
		t.Fatalf("key rotate: %d %s %s", code, out, errOut)
	}
	keys := regexp.MustCompile(`(?m)^[0-9a-f]{64}$`).FindAllString(out, -1)
	if len(keys) != 1 || keys[0] == oldHex {
		t.Fatalf("want the new key printed once, got %q", out)
	}
	newHex := keys[0]
	newKey, _ := hex.DecodeString(newHex)
	m := rotatedRE.FindStringSubmatch(out)
	if m == nil || m[1] != "2" || m[2] != storage.Fingerprint(oldKey) || m[3] != storage.Fingerprint(newKey) {
		t.Fatalf("key rotate said %q", out)
	}
	if strings.Contains(out, oldHex) || strings.Contains(errOut, newHex) || !strings.Contains(out, "CIVICARCHIVE_SECRET_KEY_PREVIOUS") {
		t.Fatalf("output: %q %q", out, errOut)
	}
	if strings.Index(out, newHex) > strings.Index(out, "re-sealed") {
		t.Fatal("the key must be shown before the credentials depend on it")
	}
	noFile(t, filepath.Join(data, storage.SecretKeyFile))
	noFile(t, filepath.Join(data, storage.NextKeyFile))
	checkSealedWith(t, data, accts, newKey, oldKey)

	// The old key alone: the server says which accounts it cannot open.
	_, stop, logs := startServerLogs(t, envVars)
	stop()
	if !strings.Contains(logs.String(), "no configured key opens the credentials") {
		t.Fatalf("a start with only the old key said nothing:\n%s", logs.String())
	}
	// New and previous, as the command says.
	envVars["CIVICARCHIVE_SECRET_KEY"] = newHex
	envVars["CIVICARCHIVE_SECRET_KEY_PREVIOUS"] = oldHex
	base, stop, logs = startServerLogs(t, envVars)
	captureAll(t, base, token, accts, "succeeded")
	stop()
	if !strings.Contains(logs.String(), "no credential needs secret_key_previous any more") {
		t.Fatalf("the server did not say the previous key can go:\n%s", logs.String())
	}
	delete(envVars, "CIVICARCHIVE_SECRET_KEY_PREVIOUS")
	base, stop = startServer(t, envVars)
	captureAll(t, base, token, accts, "succeeded")
	stop()
	for _, s := range []string{oldHex, newHex} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("the server logged a key")
		}
	}
	// A bad previous key is a bad setting.
	envVars["CIVICARCHIVE_SECRET_KEY_PREVIOUS"] = "nope"
	if code, _, errOut := cli(t, envVars, "", "key", "rotate"); code != 2 || !strings.Contains(errOut, "CIVICARCHIVE_SECRET_KEY_PREVIOUS") {
		t.Fatalf("bad previous key: %d %s", code, errOut)
	}
}
