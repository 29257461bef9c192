// Package auth holds MedWarden's account security: roles and what each may
// do, argon2id password hashing, session and CSRF tokens, and login
// throttling. It does no I/O; the store keeps users and hashed session ids.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel errors.
var (
	ErrBadRole      = errors.New("unknown role")
	ErrWeakPassword = errors.New("password too weak")
	ErrBadUsername  = errors.New("invalid user name")
	ErrBadHash      = errors.New("malformed password hash")
)

// Role is what a user may do.
type Role string

// The roles, from most to least powerful.
const (
	Admin            Role = "admin"             // everything, including users and settings
	Analyst          Role = "analyst"           // security analyst: read and write
	ClinicalEngineer Role = "clinical-engineer" // biomed: read and write
	Auditor          Role = "auditor"           // read-only plus the audit trail
	Viewer           Role = "viewer"            // read-only
)

// Roles lists every role.
var Roles = []Role{Admin, Analyst, ClinicalEngineer, Auditor, Viewer}

// Permission is one kind of action.
type Permission int

// Permissions, checked on every route.
const (
	PermRead  Permission = iota // see inventory and dashboards
	PermWrite                   // import, edit devices, resolve conflicts
	PermAudit                   // read the audit trail
	PermAdmin                   // manage users and settings
)

func (p Permission) String() string {
	switch p {
	case PermRead:
		return "read"
	case PermWrite:
		return "write"
	case PermAudit:
		return "audit"
	case PermAdmin:
		return "admin"
	}
	return fmt.Sprintf("permission(%d)", int(p))
}

// ParseRole accepts a role name (case-insensitive, "_" or " " for "-").
func ParseRole(s string) (Role, error) {
	n := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, r := range Roles {
		if string(r) == n {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of admin, analyst, clinical-engineer, auditor, viewer)", ErrBadRole, s)
}

// Can reports whether role r has permission p. Unknown roles have none.
func (r Role) Can(p Permission) bool {
	switch r {
	case Admin:
		return true
	case Analyst, ClinicalEngineer:
		return p == PermRead || p == PermWrite
	case Auditor:
		return p == PermRead || p == PermAudit
	case Viewer:
		return p == PermRead
	}
	return false
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case ClinicalEngineer:
		return "Clinical engineer"
	case "":
		return ""
	}
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

// ValidateUsername checks a login name: 1–64 characters of letters,
// digits and . _ - @, starting with a letter or digit.
func ValidateUsername(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: user name must be 1 to 64 characters", ErrBadUsername)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && strings.ContainsRune("._-@", c))
		if !ok {
			return fmt.Errorf("%w: %q may only hold letters, digits and . _ - @ (and start with a letter or digit)", ErrBadUsername, name)
		}
	}
	return nil
}

// MinPasswordLen is the shortest password accepted (NIST SP 800-63B asks
// for at least 8; a hospital console deserves more).
const MinPasswordLen = 12

// MaxPasswordLen bounds the work an attacker can cause per attempt.
const MaxPasswordLen = 256

// ValidatePassword checks length and that the password is not the user name.
func ValidatePassword(password, username string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters are required (got %d)", ErrWeakPassword, MinPasswordLen, n)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	case username != "" && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return fmt.Errorf("%w: it must not contain the user name", ErrWeakPassword)
	case strings.Count(password, password[:1]) == len(password):
		return fmt.Errorf("%w: it repeats one character", ErrWeakPassword)
	}
	return nil
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I).
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 20-character password (about 117 bits)
// for one-time and reset passwords.
func GeneratePassword() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	out := make([]byte, len(b))
	for i := range b {
		// rejection-free: 256 % 57 bias is < 0.4%, negligible at 20 characters
		out[i] = passwordAlphabet[int(b[i])%len(passwordAlphabet)]
	}
	return string(out), nil
}

// NewToken returns a random 256-bit token in URL-safe base64 (cookie
// value, CSRF token).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is the form a session token is stored in: hex SHA-256. A
// 256-bit random token needs no salt or slow hash.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// TokensEqual compares two tokens in constant time (for equal lengths).
func TokensEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
