package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// ErrBadCredentials is returned for a wrong username, password or token. It
// never says which part was wrong.
var ErrBadCredentials = errors.New("storage: bad credentials")

// argon2id parameters: RFC 9106's second recommended option (64 MiB, 3 passes).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	argonSaltLen = 16
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 12

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-format hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Username, DisplayName, Role, Password string
	Department                            string // a department head's department
}

// CreateUser stores a user with a hashed password.
func (c *Catalog) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	n.Username = strings.TrimSpace(n.Username)
	if n.Username == "" || len(n.Username) > 128 || strings.ContainsAny(n.Username, " \t\r\n") {
		return nil, errors.New("storage: create user: username must be 1-128 characters without spaces")
	}
	if !ValidRole(n.Role) {
		return nil, fmt.Errorf("storage: create user: role %q is not one of %s", n.Role, strings.Join(Roles, ", "))
	}
	if err := CheckDepartment(n.Role, n.Department); err != nil {
		return nil, fmt.Errorf("storage: create user: %w", err)
	}
	if utf8.RuneCountInString(n.Password) < MinPasswordLen {
		return nil, fmt.Errorf("storage: create user: password must be at least %d characters", MinPasswordLen)
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, fmt.Errorf("storage: create user: %w", err)
	}
	u := &User{Username: n.Username, DisplayName: n.DisplayName, Role: n.Role, Department: strings.TrimSpace(n.Department), PasswordHash: hash}
	if err := c.gdb(ctx).Create(u).Error; err != nil {
		return nil, fmt.Errorf("storage: create user %q: %w", n.Username, mapErr(err))
	}
	return u, nil
}

// Authenticate checks a username and password. A wrong username costs the
// same hashing time as a wrong password, so timing tells nothing.
func (c *Catalog) Authenticate(ctx context.Context, username, password string) (*User, error) {
	var u User
	err := c.gdb(ctx).Where("username = ?", username).First(&u).Error
	if err != nil {
		CheckPassword(dummyHash(), password)
		if errors.Is(err, gormNotFound) {
			return nil, ErrBadCredentials
		}
		return nil, fmt.Errorf("storage: authenticate: %w", err)
	}
	now := time.Now().UTC()
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		CheckPassword(dummyHash(), password) // the same work as any attempt
		return nil, ErrLocked
	}
	if !CheckPassword(u.PasswordHash, password) || u.Disabled {
		return nil, c.loginFailed(ctx, u.ID, now)
	}
	if u.FailedLogins > 0 || u.LockedUntil != nil {
		err := c.gdb(ctx).Model(&User{}).Where("id = ?", u.ID).
			Updates(map[string]any{"failed_logins": 0, "locked_until": nil}).Error
		if err != nil {
			return nil, fmt.Errorf("storage: authenticate: %w", err)
		}
	}
	return &u, nil
}

// Lockout: after MaxFailedLogins wrong passwords in a row a user cannot
// sign in for LockoutFor, even with the right one.
const (
	MaxFailedLogins = 5
	LockoutFor      = 15 * time.Minute
)

// ErrLocked is returned by Authenticate while a user is locked out.
var ErrLocked = errors.New("storage: too many failed sign-ins; locked for a while")

// loginFailed counts a failure (in the database, so every replica sees
// it) and locks the user at the limit. It returns the error to answer.
func (c *Catalog) loginFailed(ctx context.Context, id uint64, now time.Time) error {
	var lockedNow bool
	err := c.Tx(ctx, func(tx *Catalog) error {
		if err := tx.gdb(ctx).Model(&User{}).Where("id = ?", id).
			UpdateColumn("failed_logins", gorm.Expr("failed_logins + 1")).Error; err != nil {
			return err
		}
		var u User
		if err := tx.gdb(ctx).Select("failed_logins").Take(&u, id).Error; err != nil {
			return err
		}
		if u.FailedLogins < MaxFailedLogins {
			return nil
		}
		lockedNow = true
		until := now.Add(LockoutFor)
		return tx.gdb(ctx).Model(&User{}).Where("id = ?", id).
			Updates(map[string]any{"failed_logins": 0, "locked_until": until}).Error
	})
	switch {
	case err != nil:
		return fmt.Errorf("storage: authenticate: %w", err)
	case lockedNow:
		return ErrLocked
	}
	return ErrBadCredentials
}

// dummyHash is checked against when the user does not exist, so an unknown
// username costs the same argon2id work as a wrong password. Made with the
// real parameters on first use (not at start: CLI commands never need it).
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("no such user")
	if err != nil {
		panic(err)
	}
	return h
})

// UserByID returns one user.
func (c *Catalog) UserByID(ctx context.Context, id uint64) (*User, error) {
	var u User
	if err := c.gdb(ctx).First(&u, id).Error; err != nil {
		return nil, fmt.Errorf("storage: user %d: %w", id, mapErr(err))
	}
	return &u, nil
}

// newSecret returns a random URL-safe secret with a readable prefix.
func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is how tokens and session cookies are stored: they carry 256
// random bits, so a plain SHA-256 cannot be brute-forced, and lookups stay
// one indexed equality.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TokenPrefix starts every API token, so a leaked one is easy to recognise.
const TokenPrefix = "cva_"

// CreateToken makes an API token and returns its only plaintext copy.
func (c *Catalog) CreateToken(ctx context.Context, name, role string, userID *uint64) (string, *APIToken, error) {
	return c.CreateTokenIn(ctx, name, role, "", userID)
}

// CreateTokenIn is CreateToken for a role that may need a department (a
// department head's token).
func (c *Catalog) CreateTokenIn(ctx context.Context, name, role, department string, userID *uint64) (string, *APIToken, error) {
	if err := CheckDepartment(role, department); err != nil {
		return "", nil, fmt.Errorf("storage: create token: %w", err)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, errors.New("storage: create token: name is required")
	}
	if !ValidRole(role) {
		return "", nil, fmt.Errorf("storage: create token: role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	plain, err := newSecret(TokenPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("storage: create token: %w", err)
	}
	t := &APIToken{Name: name, Role: role, Department: strings.TrimSpace(department), UserID: userID, TokenHash: hashSecret(plain), Prefix: plain[:len(TokenPrefix)+6]}
	if err := c.gdb(ctx).Create(t).Error; err != nil {
		return "", nil, fmt.Errorf("storage: create token: %w", mapErr(err))
	}
	return plain, t, nil
}

// TokenByPlain finds a live (not revoked, not expired) token.
func (c *Catalog) TokenByPlain(ctx context.Context, plain string) (*APIToken, error) {
	if !strings.HasPrefix(plain, TokenPrefix) {
		return nil, ErrBadCredentials
	}
	var t APIToken
	err := c.gdb(ctx).Where("token_hash = ?", hashSecret(plain)).First(&t).Error
	if errors.Is(err, gormNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("storage: token: %w", err)
	}
	now := time.Now().UTC()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && now.After(*t.ExpiresAt)) {
		return nil, ErrBadCredentials
	}
	return &t, nil
}

// CreateSession starts a login session and returns its cookie value.
func (c *Catalog) CreateSession(ctx context.Context, userID uint64, ttl time.Duration) (string, *Session, error) {
	plain, err := newSecret("")
	if err != nil {
		return "", nil, err
	}
	csrf, err := newSecret("")
	if err != nil {
		return "", nil, err
	}
	now := time.Now().UTC()
	s := &Session{UserID: userID, TokenHash: hashSecret(plain), CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := c.gdb(ctx).Create(s).Error; err != nil {
		return "", nil, fmt.Errorf("storage: create session: %w", mapErr(err))
	}
	return plain, s, nil
}

// SessionByPlain finds a live session with its user.
func (c *Catalog) SessionByPlain(ctx context.Context, plain string) (*Session, error) {
	if plain == "" {
		return nil, ErrBadCredentials
	}
	var s Session
	err := c.gdb(ctx).Preload("User").Where("token_hash = ? AND expires_at > ?", hashSecret(plain), time.Now().UTC()).First(&s).Error
	if errors.Is(err, gormNotFound) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("storage: session: %w", err)
	}
	if s.User.Disabled {
		return nil, ErrBadCredentials
	}
	return &s, nil
}

// DeleteSession ends a session (logout).
func (c *Catalog) DeleteSession(ctx context.Context, plain string) error {
	return c.gdb(ctx).Where("token_hash = ?", hashSecret(plain)).Delete(&Session{}).Error
}

// PurgeExpiredSessions deletes sessions past their expiry and says how many.
func (c *Catalog) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	res := c.gdb(ctx).Where("expires_at <= ?", time.Now().UTC()).Delete(&Session{})
	return res.RowsAffected, res.Error
}

// ListUsers returns every user, by username.
func (c *Catalog) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	err := c.gdb(ctx).Order("username").Find(&us).Error
	return us, err
}

// SetUserRole changes a user's role (and department), with a custody event
// naming the old and the new, in one transaction. The user's sessions end:
// the next page asks them to sign in again under the new role.
func (c *Catalog) SetUserRole(ctx context.Context, username, role, department, actor string) (*User, error) {
	if !ValidRole(role) {
		return nil, fmt.Errorf("storage: set role: role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	if err := CheckDepartment(role, department); err != nil {
		return nil, fmt.Errorf("storage: set role: %w", err)
	}
	department = strings.TrimSpace(department)
	var u User
	err := c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		if err := db.Where("username = ?", username).First(&u).Error; err != nil {
			return mapErr(err)
		}
		from, fromDept := u.Role, u.Department
		if err := db.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{"role": role, "department": department}).Error; err != nil {
			return err
		}
		if err := db.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return err
		}
		u.Role, u.Department = role, department
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "role_changed", Actor: actor, SubjectType: "user", SubjectID: fmt.Sprint(u.ID),
			Details: map[string]any{"username": u.Username, "from": from, "from_department": fromDept, "to": role, "to_department": department}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: set role of %q: %w", username, err)
	}
	return &u, nil
}

// ChangePassword sets a user's new password after checking the current
// one, ends every other session of the user (keep: the session making the
// change, 0 for none) and records a custody event (never the password). A
// wrong current password is ErrBadCredentials and changes nothing.
func (c *Catalog) ChangePassword(ctx context.Context, userID uint64, current, next string, keep uint64) error {
	if utf8.RuneCountInString(next) < MinPasswordLen {
		return fmt.Errorf("%w: the new password must be at least %d characters", ErrWeakPassword, MinPasswordLen)
	}
	var u User
	if err := c.gdb(ctx).First(&u, userID).Error; err != nil {
		return mapErr(err)
	}
	if !CheckPassword(u.PasswordHash, current) {
		return ErrBadCredentials
	}
	hash, err := HashPassword(next)
	if err != nil {
		return fmt.Errorf("storage: change password: %w", err)
	}
	return c.Tx(ctx, func(tx *Catalog) error {
		db := tx.gdb(ctx)
		if err := db.Model(&User{}).Where("id = ?", userID).Update("password_hash", hash).Error; err != nil {
			return err
		}
		if err := db.Where("user_id = ? AND id <> ?", userID, keep).Delete(&Session{}).Error; err != nil {
			return err
		}
		_, err := tx.AppendCustody(ctx, NewEvent{Kind: "password_changed", Actor: "user:" + u.Username, SubjectType: "user",
			SubjectID: fmt.Sprint(userID), Details: map[string]any{"username": u.Username, "other_sessions_ended": true}})
		return err
	})
}

// ErrWeakPassword: a new password too short to accept.
var ErrWeakPassword = errors.New("storage: password too weak")
