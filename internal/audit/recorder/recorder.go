// Package recorder wraps a store so that every change made through it is
// appended to the audit log: device create, update and delete (with the
// device before and after), inventory imports and feed imports (as a
// summary), and account changes (without password hashes). The actor
// comes from the context (audit.WithActor); changes without one are
// recorded as made by "unknown" so that none goes unlogged.
package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// Unknown is the actor of changes made without one in the context.
var Unknown = audit.Actor{Name: "unknown", Kind: audit.KindSystem, Source: "-"}

// Store is a store.Store whose changes are audited. Methods it does not
// override pass straight through.
type Store struct {
	store.Store
	store.SecurityStore
	sec store.SecurityStore
	log *slog.Logger
	// secGen counts account and token changes made through this store
	// (SecurityGeneration).
	secGen atomic.Uint64
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.SecurityStore = (*Store)(nil)
)

// Wrap returns st with auditing. st must implement store.SecurityStore
// (every MedWarden driver does).
func Wrap(st store.Store, log *slog.Logger) (*Store, error) {
	if r, ok := st.(*Store); ok {
		return r, nil
	}
	sec, ok := st.(store.SecurityStore)
	if !ok {
		return nil, fmt.Errorf("audit: store %s does not keep an audit log", st.Dialect())
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{Store: st, SecurityStore: sec, sec: sec, log: log}, nil
}

// SecurityGeneration counts the account and API-token changes made
// through this store (user updates, token revocations). It moves after the
// change is written, so a cache of verified credentials that read the
// generation before its lookup and finds it unchanged holds no credential
// weakened since (internal/api's token cache).
func (s *Store) SecurityGeneration() uint64 { return s.secGen.Load() }

// Security returns the token and audit store underneath.
func (s *Store) Security() store.SecurityStore { return s.sec }

// Record appends one entry for the actor in ctx. The change it describes
// has already happened: a failure here is returned (and logged at error
// level) so that the caller does not report success silently.
func Record(ctx context.Context, sec store.SecurityStore, action, object string, before, after any) error {
	a, ok := audit.ActorFrom(ctx)
	if !ok {
		a = Unknown
	}
	e, err := audit.New(a, store.Now(), action, object, before, after)
	if err != nil {
		return err
	}
	// The change is done; record it even if the caller's request is being
	// cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := sec.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("%s %s done but not audited: %w", action, object, err)
	}
	return nil
}

func (s *Store) record(ctx context.Context, action, object string, before, after any) error {
	err := Record(ctx, s.sec, action, object, before, after)
	if err != nil {
		s.log.Error("audit append failed", "action", action, "object", object, "err", err)
	}
	return err
}

func deviceObject(id int64) string { return "device/" + strconv.FormatInt(id, 10) }

// auditedDevices is implemented by stores that write a device change and
// its audit entry in one transaction, committed together with concurrent
// writes (sqldb's group commit, device_writes.go). entry builds the entry
// from the stored device before the change and the device after it.
type auditedDevices interface {
	CreateDeviceAudited(ctx context.Context, d *inventory.Device, entry func(before, after *inventory.Device) (*audit.Entry, error)) error
	UpdateDeviceAudited(ctx context.Context, d *inventory.Device, ifRevision int64, entry func(before, after *inventory.Device) (*audit.Entry, error)) error
	DeleteDeviceAudited(ctx context.Context, id, ifRevision int64, entry func(before, after *inventory.Device) (*audit.Entry, error)) error
}

// deviceEntry returns the entry builder of a device write by the actor in
// ctx.
func deviceEntry(ctx context.Context, action string, id func() int64) func(before, after *inventory.Device) (*audit.Entry, error) {
	a, ok := audit.ActorFrom(ctx)
	if !ok {
		a = Unknown
	}
	return func(before, after *inventory.Device) (*audit.Entry, error) {
		var b, f any // a nil device is JSON null, not a typed nil
		if before != nil {
			b = before
		}
		if after != nil {
			f = after
		}
		return audit.New(a, store.Now(), action, deviceObject(id()), b, f)
	}
}

// CreateDevice creates and audits: in one transaction when the store can
// (auditedDevices), else the entry is appended right after the change.
func (s *Store) CreateDevice(ctx context.Context, d *inventory.Device) error {
	if aw, ok := s.Store.(auditedDevices); ok {
		return aw.CreateDeviceAudited(ctx, d, deviceEntry(ctx, "device.create", func() int64 { return d.ID }))
	}
	if err := s.Store.CreateDevice(ctx, d); err != nil {
		return err
	}
	return s.record(ctx, "device.create", deviceObject(d.ID), nil, d)
}

// UpdateDevice updates and audits with the device before and after.
func (s *Store) UpdateDevice(ctx context.Context, d *inventory.Device, ifRevision int64) error {
	if aw, ok := s.Store.(auditedDevices); ok {
		return aw.UpdateDeviceAudited(ctx, d, ifRevision, deviceEntry(ctx, "device.update", func() int64 { return d.ID }))
	}
	before, err := s.Store.GetDevice(ctx, d.ID)
	if err != nil {
		before = nil // the update below reports the missing device
	}
	if err := s.Store.UpdateDevice(ctx, d, ifRevision); err != nil {
		return err
	}
	return s.record(ctx, "device.update", deviceObject(d.ID), before, d)
}

// DeleteDevice deletes and audits with the device before.
func (s *Store) DeleteDevice(ctx context.Context, id int64, ifRevision int64) error {
	if aw, ok := s.Store.(auditedDevices); ok {
		return aw.DeleteDeviceAudited(ctx, id, ifRevision, deviceEntry(ctx, "device.delete", func() int64 { return id }))
	}
	before, err := s.Store.GetDevice(ctx, id)
	if err != nil {
		before = nil
	}
	if err := s.Store.DeleteDevice(ctx, id, ifRevision); err != nil {
		return err
	}
	return s.record(ctx, "device.delete", deviceObject(id), before, nil)
}

// ImportSummary is what the audit log keeps of an inventory import.
type ImportSummary struct {
	Created    int     `json:"created"`
	Updated    int     `json:"updated"`
	CreatedIDs []int64 `json:"created_ids,omitempty"` // up to 1000
	UpdatedIDs []int64 `json:"updated_ids,omitempty"` // up to 1000
}

const maxIDs = 1000

type countingTx struct {
	store.ImportTx
	sum ImportSummary
}

func (t *countingTx) Insert(ctx context.Context, ds []*inventory.Device) error {
	if err := t.ImportTx.Insert(ctx, ds); err != nil {
		return err
	}
	t.sum.Created += len(ds)
	for _, d := range ds {
		if len(t.sum.CreatedIDs) < maxIDs {
			t.sum.CreatedIDs = append(t.sum.CreatedIDs, d.ID)
		}
	}
	return nil
}

func (t *countingTx) Update(ctx context.Context, d *inventory.Device) error {
	if err := t.ImportTx.Update(ctx, d); err != nil {
		return err
	}
	t.sum.Updated++
	if len(t.sum.UpdatedIDs) < maxIDs {
		t.sum.UpdatedIDs = append(t.sum.UpdatedIDs, d.ID)
	}
	return nil
}

// Import runs an inventory import and audits a summary of it when it
// committed and changed anything.
func (s *Store) Import(ctx context.Context, fn func(store.ImportTx) error) error {
	var ct *countingTx
	err := s.Store.Import(ctx, func(tx store.ImportTx) error {
		ct = &countingTx{ImportTx: tx}
		return fn(ct)
	})
	if err != nil || ct == nil || ct.sum.Created+ct.sum.Updated == 0 {
		return err
	}
	return s.record(ctx, "import.run", "inventory", nil, ct.sum)
}

// FeedSummary is what the audit log keeps of a feed import.
type FeedSummary struct {
	Advisories int      `json:"advisories"`
	KEV        bool     `json:"kev,omitempty"`
	EPSS       bool     `json:"epss,omitempty"`
	NVD        int      `json:"nvd,omitempty"`
	Feeds      []string `json:"feeds,omitempty"`
}

type countingFeedTx struct {
	store.FeedTx
	sum FeedSummary
}

func (t *countingFeedTx) PutAdvisory(ctx context.Context, a *advisory.Advisory, feed string) error {
	if err := t.FeedTx.PutAdvisory(ctx, a, feed); err != nil {
		return err
	}
	t.sum.Advisories++
	return nil
}

func (t *countingFeedTx) ReplaceKEV(ctx context.Context, c *kev.Catalog) error {
	if err := t.FeedTx.ReplaceKEV(ctx, c); err != nil {
		return err
	}
	t.sum.KEV = true
	return nil
}

func (t *countingFeedTx) ReplaceEPSS(ctx context.Context, f *epss.File) error {
	if err := t.FeedTx.ReplaceEPSS(ctx, f); err != nil {
		return err
	}
	t.sum.EPSS = true
	return nil
}

func (t *countingFeedTx) PutNVD(ctx context.Context, id string, lastModified time.Time, raw []byte) error {
	if err := t.FeedTx.PutNVD(ctx, id, lastModified, raw); err != nil {
		return err
	}
	t.sum.NVD++
	return nil
}

// PutOSV forwards OSV records (store.OSVFeedTx, the SBOM feed) to the
// driver's transaction; they are counted in the feed's status, not here.
func (t *countingFeedTx) PutOSV(ctx context.Context, id, ecosystem string, modified time.Time, raw []byte) error {
	otx, ok := t.FeedTx.(store.OSVFeedTx)
	if !ok {
		return fmt.Errorf("put osv %s: the store cannot keep OSV records", id)
	}
	return otx.PutOSV(ctx, id, ecosystem, modified, raw)
}

func (t *countingFeedTx) SetFeed(ctx context.Context, f store.FeedStatus) error {
	if err := t.FeedTx.SetFeed(ctx, f); err != nil {
		return err
	}
	t.sum.Feeds = append(t.sum.Feeds, f.Name)
	return nil
}

// ImportFeeds runs a feed import and audits a summary of it.
func (s *Store) ImportFeeds(ctx context.Context, fn func(store.FeedTx) error) error {
	var ct *countingFeedTx
	err := s.Store.ImportFeeds(ctx, func(tx store.FeedTx) error {
		ct = &countingFeedTx{FeedTx: tx}
		return fn(ct)
	})
	if err != nil || ct == nil {
		return err
	}
	return s.record(ctx, "feed.import", "feeds", nil, ct.sum)
}

// UserView is an account as the audit log shows it: never the password
// hash, only whether it changed.
type UserView struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	Role               string `json:"role"`
	Disabled           bool   `json:"disabled"`
	MustChangePassword bool   `json:"must_change_password"`
	PasswordChanged    bool   `json:"password_changed,omitempty"`
}

func userView(u *store.User, prevHash string) *UserView {
	if u == nil {
		return nil
	}
	return &UserView{ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled, MustChangePassword: u.MustChangePassword,
		PasswordChanged: prevHash != "" && prevHash != u.PasswordHash}
}

// CreateUser creates and audits an account.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return err
	}
	return s.record(ctx, "user.create", "user/"+u.Username, nil, userView(u, ""))
}

// UpdateUser updates and audits an account. Sign-ins (which only move
// last_login) are not changes and are not audited.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	before, err := s.Store.GetUser(ctx, u.ID)
	if err != nil {
		before = nil
	}
	err = s.Store.UpdateUser(ctx, u)
	s.secGen.Add(1) // even on error: the write may have happened
	if err != nil {
		return err
	}
	if before != nil && before.Role == u.Role && before.PasswordHash == u.PasswordHash && before.Disabled == u.Disabled &&
		before.MustChangePassword == u.MustChangePassword {
		return nil
	}
	prev := ""
	if before != nil {
		prev = before.PasswordHash
	}
	return s.record(ctx, "user.update", "user/"+u.Username, userView(before, ""), userView(u, prev))
}

// TokenView is an API token as the audit log shows it (never the hash).
type TokenView struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Scopes    string    `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func tokenView(t *store.APIToken) *TokenView {
	if t == nil {
		return nil
	}
	return &TokenView{ID: t.ID, UserID: t.UserID, Name: t.Name, Scopes: strings.Join(t.Scopes, ","), ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

func tokenObject(id int64) string { return "token/" + strconv.FormatInt(id, 10) }

// CreateToken creates and audits an API token.
func (s *Store) CreateToken(ctx context.Context, t *store.APIToken) error {
	if err := s.sec.CreateToken(ctx, t); err != nil {
		return err
	}
	return s.record(ctx, "token.create", tokenObject(t.ID), nil, tokenView(t))
}

// RevokeToken revokes and audits an API token.
func (s *Store) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	before, err := s.sec.GetToken(ctx, id)
	if err != nil {
		return err
	}
	err = s.sec.RevokeToken(ctx, id, at)
	s.secGen.Add(1) // even on error: the write may have happened
	if err != nil {
		return err
	}
	after, err := s.sec.GetToken(ctx, id)
	if err != nil {
		return err
	}
	return s.record(ctx, "token.revoke", tokenObject(id), tokenView(before), tokenView(after))
}
