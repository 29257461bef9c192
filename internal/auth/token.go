package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrBadScope is returned for a scope that does not exist or that the
// token's user may not hold.
var ErrBadScope = errors.New("invalid scope")

// TokenPrefix starts every API token so secret scanners (and people)
// recognise one in a log, a ticket or a repository.
const TokenPrefix = "mwt_"

// Scope is one area and access level an API token may carry, "area:read"
// or "area:write". Write does not imply read: ask for both.
type Scope string

// Areas of the API that scopes name.
var Areas = []string{"devices", "imports", "advisories", "feeds", "findings", "audit", "users", "metrics", "sensor"}

// AllScopes lists every valid scope in display order. The audit log is
// append-only and metrics are read-only, so there is no audit:write or
// metrics:write; sensor data is only sent (sensor:write; what sensors
// found is read under devices:read), so there is no sensor:read.
var AllScopes = func() []Scope {
	var out []Scope
	for _, a := range Areas {
		if a != "sensor" {
			out = append(out, Scope(a+":read"))
		}
		if a != "audit" && a != "metrics" {
			out = append(out, Scope(a+":write"))
		}
	}
	return out
}()

// Area and level of a scope ("devices", "write").
func (s Scope) split() (area, level string) {
	area, level, _ = strings.Cut(string(s), ":")
	return area, level
}

// Allows reports whether role r may act within scope s: what a token
// of a user with role r can ever be granted, and what it keeps when the
// user's role changes later.
func (r Role) Allows(s Scope) bool {
	if !slices.Contains(AllScopes, s) {
		return false
	}
	area, level := s.split()
	switch area {
	case "users":
		return r.Can(PermAdmin)
	case "audit":
		return r.Can(PermAudit)
	}
	if level == "write" {
		return r.Can(PermWrite)
	}
	return r.Can(PermRead)
}

// Scopes lists every scope role r allows.
func (r Role) Scopes() []Scope {
	var out []Scope
	for _, s := range AllScopes {
		if r.Allows(s) {
			out = append(out, s)
		}
	}
	return out
}

// ParseScopes reads a comma-separated scope list ("devices:read,
// imports:write"). "area:*" names both levels of an area; "*" every
// scope. The result is sorted and free of duplicates.
func ParseScopes(list string) ([]Scope, error) {
	seen := map[Scope]bool{}
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "":
			continue
		case f == "*":
			for _, s := range AllScopes {
				seen[s] = true
			}
			continue
		case strings.HasSuffix(f, ":*"):
			area := strings.TrimSuffix(f, ":*")
			n := 0
			for _, s := range AllScopes {
				if a, _ := s.split(); a == area {
					seen[s] = true
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("%w %q: unknown area (want one of %s)", ErrBadScope, f, strings.Join(Areas, ", "))
			}
			continue
		}
		if !slices.Contains(AllScopes, Scope(f)) {
			return nil, fmt.Errorf("%w %q (want area:read or area:write, areas: %s)", ErrBadScope, f, strings.Join(Areas, ", "))
		}
		seen[Scope(f)] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no scope given", ErrBadScope)
	}
	out := make([]Scope, 0, len(seen))
	for _, s := range AllScopes {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// CheckScopes returns an error naming the first scope role r may not hold.
func (r Role) CheckScopes(scopes []Scope) error {
	for _, s := range scopes {
		if !r.Allows(s) {
			return fmt.Errorf("%w %q: role %s does not allow it", ErrBadScope, s, r)
		}
	}
	return nil
}

// NewAPIToken returns a new API token: TokenPrefix followed by 256 random
// bits in URL-safe base64 (47 characters in all). Store only HashToken of it.
func NewAPIToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate api token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// LooksLikeAPIToken reports whether s has the shape NewAPIToken makes, so
// garbage is rejected before any database lookup.
func LooksLikeAPIToken(s string) bool {
	if len(s) != len(TokenPrefix)+43 || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s[len(TokenPrefix):])
	return err == nil
}

// MaxTokenLifetime is the longest an API token may live (one year plus a
// day, so "365d" works).
const MaxTokenLifetime = 366 * 24 * time.Hour

// ParseLifetime reads a token lifetime: "90d", "12h", "30m" or any Go
// duration, between one minute and MaxTokenLifetime.
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("lifetime %q: want a number of days like 90d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("lifetime %q: want 90d, 12h or 30m", s)
		}
	}
	if d < time.Minute || d > MaxTokenLifetime {
		return 0, fmt.Errorf("lifetime %q: must be between 1m and 366d", s)
	}
	return d, nil
}
