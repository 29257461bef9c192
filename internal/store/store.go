// Package store declares what MedWarden persists and how callers reach it.
// Two drivers implement it with the same SQL where the dialects agree:
// store/sqlite (embedded, the default) and store/postgres (at scale). Both
// are built on store/sqldb; storetest is the conformance suite they share.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
)

// Sentinel errors every driver returns (wrapped) so callers can branch.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the revision given with a write is not the stored one.
	ErrConflict = errors.New("revision conflict")
	// ErrExists: a unique key (asset id) is already taken.
	ErrExists = errors.New("already exists")
)

// Store is the whole persistence layer.
type Store interface {
	DeviceStore
	UserStore
	StatsStore
	AdvisoryStore
	FindingStore
	EdgeStore
	SBOMStore
	// Dialect is "sqlite" or "postgres".
	Dialect() string
	// SchemaVersion is the migration version the database is at.
	SchemaVersion(ctx context.Context) (int, error)
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// DeviceStore keeps the device inventory.
type DeviceStore interface {
	GetDevice(ctx context.Context, id int64) (*inventory.Device, error)
	GetDeviceByAssetID(ctx context.Context, assetID string) (*inventory.Device, error)
	// ListDevices returns one page of devices. Each device is the
	// caller's own struct, but its maps and slices (Provenance, Observed,
	// MACs, IPs) may be shared with other pages (the SQL store's cache of
	// recently listed devices): replace them rather than modify them.
	ListDevices(ctx context.Context, q DeviceQuery) (*DevicePage, error)
	CountDevices(ctx context.Context) (int64, error)
	// CreateDevice inserts d and sets its ID, Revision and timestamps.
	CreateDevice(ctx context.Context, d *inventory.Device) error
	// UpdateDevice writes d if the stored revision equals ifRevision (0:
	// unconditional) and bumps d.Revision.
	UpdateDevice(ctx context.Context, d *inventory.Device, ifRevision int64) error
	DeleteDevice(ctx context.Context, id int64, ifRevision int64) error
	// ScanIdentities streams every device's identity fields (asset id, UDI,
	// vendor, serial, MACs; other fields are empty) to build a merge index.
	ScanIdentities(ctx context.Context, fn func(*inventory.Device) error) error
	// IdentityMark marks the present, before a ScanIdentities, so that an
	// import transaction can catch up with the device writes committed
	// since (ImportTx.IdentitiesSince).
	IdentityMark(ctx context.Context) (IdentityMark, error)
	// ScanDevices streams every device in id order (exports).
	ScanDevices(ctx context.Context, fn func(*inventory.Device) error) error
	// Import runs fn inside one transaction: all of its writes land or none.
	Import(ctx context.Context, fn func(ImportTx) error) error
	// BuildIndexes builds the device indexes that large bulk imports left
	// for after their commit (docs/INVENTORY.md, "Large imports"), one per
	// transaction, calling progress (when not nil) after each; it returns
	// at once when none is pending. Lists and searches give the same
	// answers before, only slower. Any number of processes may call it:
	// each index is built once.
	BuildIndexes(ctx context.Context, progress func(IndexBuild)) error
	// PendingIndexes names the deferred builds not done yet, in build order.
	PendingIndexes(ctx context.Context) ([]string, error)
}

// IndexBuild reports one finished step of DeviceStore.BuildIndexes.
type IndexBuild struct {
	Name string        // index name; "search index"; "statistics"
	Took time.Duration // wall time of the step
	Left int           // steps still pending after it
}

// ImportTx is what an import may do inside its transaction.
type ImportTx interface {
	Get(ctx context.Context, id int64) (*inventory.Device, error)
	// GetMany reads the devices with these ids in one query (ids not found
	// are absent from the result).
	GetMany(ctx context.Context, ids []int64) (map[int64]*inventory.Device, error)
	// GetManyAsync starts GetMany and returns a function that waits for
	// its result; other calls on the transaction wait for it first.
	GetManyAsync(ctx context.Context, ids []int64) func() (map[int64]*inventory.Device, error)
	// Insert queues new devices for a bulk insert (COPY on PostgreSQL) and
	// assigns their IDs.
	Insert(ctx context.Context, ds []*inventory.Device) error
	// InsertBatch is how many new devices an importer should pass to one
	// Insert (the cheapest size for the database).
	InsertBatch() int
	Update(ctx context.Context, d *inventory.Device) error
	// IdentitiesSince keeps every other device writer out until the
	// transaction ends (SQLite's write transaction does already; PostgreSQL
	// takes a table lock that readers pass), then streams the identity
	// fields of every device created or changed since mark was taken (and
	// possibly of a few others; fn may keep the device) and returns the
	// number of devices stored now. Deletions show only in that number.
	IdentitiesSince(ctx context.Context, mark IdentityMark, fn func(*inventory.Device) error) (int64, error)
	// ScanIdentities is DeviceStore.ScanIdentities inside the transaction.
	ScanIdentities(ctx context.Context, fn func(*inventory.Device) error) error
}

// IdentityMark is an opaque point in a store's history of device writes
// (DeviceStore.IdentityMark); the empty mark is before the first write.
type IdentityMark string

// DeviceQuery selects a page of devices.
type DeviceQuery struct {
	// Filters: field name (inventory.Fields) → value, exact and
	// case-insensitive; "mac" and "ip" match any of a device's addresses.
	Filters map[string]string
	// Search is free text matched (substring, case-insensitive) against
	// asset id, vendor, model, type, hostname, serial, site, location,
	// department, MACs and IPs.
	Search string
	// Sort is a field name, "-" prefixed for descending; "" sorts by id.
	Sort   string
	Limit  int    // default 50, at most 1000
	Cursor string // opaque, from DevicePage.Next
	// EOSBefore selects devices whose end of support is before this date.
	EOSBefore string
}

// DevicePage is one page of a device list.
type DevicePage struct {
	Devices []*inventory.Device `json:"devices"`
	Next    string              `json:"next,omitempty"` // cursor of the next page; "" at the end
}

// SortFields are the fields a device list can be sorted by.
// Each has an index, so a sorted page costs the same on a million devices.
var SortFields = []string{"id", "asset_id", "vendor", "model", "device_type", "version", "site",
	"department", "hostname", "criticality", "end_of_support", "updated_at"}

// Now is the clock the drivers use; tests may replace it.
var Now = func() time.Time { return time.Now().UTC() }

// User is a local account of the web console and CLI.
type User struct {
	ID       int64
	Username string // unique, compared case-insensitively
	// Role is one of auth.Roles ("admin", "analyst", "clinical-engineer",
	// "auditor", "viewer"); the store keeps it as text.
	Role         string
	PasswordHash string // argon2id, PHC string form
	Disabled     bool
	// MustChangePassword is set for one-time and reset passwords.
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	LastLogin          time.Time // zero when never
}

// Session is a signed-in browser. Only the SHA-256 of the cookie value is
// stored, so a copy of the database does not yield usable sessions.
type Session struct {
	IDHash    string // hex SHA-256 of the cookie value
	UserID    int64
	CSRFToken string // synchronizer token for every form of this session
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time // absolute expiry
}

// SavedView is a named device-list query a user saved.
type SavedView struct {
	ID     int64
	UserID int64
	Name   string
	// Query is the URL query string of the device list ("site=North&sort=-criticality").
	Query     string
	CreatedAt time.Time
}

// UserStore keeps accounts, sessions and saved views.
type UserStore interface {
	// CreateUser inserts u and sets its ID; ErrExists when the name is taken.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id int64) (*User, error)
	GetUserByName(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int64, error)
	// UpdateUser writes role, password hash, disabled, must-change and last login.
	UpdateUser(ctx context.Context, u *User) error

	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string) (*Session, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions signs a user out everywhere (disable, password change).
	DeleteUserSessions(ctx context.Context, userID int64) error
	// DeleteExpiredSessions removes sessions whose absolute expiry is before
	// now or that were last seen before idleBefore.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error)

	// SaveView inserts v (sets its ID); ErrExists when the user already has a view of that name.
	SaveView(ctx context.Context, v *SavedView) error
	ListViews(ctx context.Context, userID int64) ([]*SavedView, error)
	DeleteView(ctx context.Context, userID, id int64) error
}

// Count is one group of a device breakdown.
type Count struct {
	Key string
	N   int64
}

// DeviceStats is what the dashboard shows about the inventory.
type DeviceStats struct {
	Total         int64
	ByCriticality []Count // by criticality name, most critical first, "" (unknown) last
	ByType        []Count // largest first
	BySite        []Count // largest first
	PastSupport   int64   // end of support before the given day
	WithObserved  int64   // devices carrying sensor observations
}

// StatsStore computes inventory breakdowns.
type StatsStore interface {
	// DeviceStats counts devices; today (YYYY-MM-DD) decides "past end of support".
	DeviceStats(ctx context.Context, today string) (*DeviceStats, error)
	// ScanObserved streams every device that carries observed values (the
	// candidates for provenance conflicts).
	ScanObserved(ctx context.Context, fn func(*inventory.Device) error) error
}

// AdvisoryStore keeps advisories (the normalised model), the KEV catalog,
// EPSS scores, NVD CVE records and the status of every feed
// (advisory_store.go and feed_store.go in sqldb).
type AdvisoryStore interface {
	// ImportFeeds runs fn in one transaction: all of its writes land or none.
	ImportFeeds(ctx context.Context, fn func(FeedTx) error) error
	// GetAdvisory returns one advisory by tracking id (ErrNotFound).
	GetAdvisory(ctx context.Context, id string) (*advisory.Advisory, error)
	// ListAdvisories returns a page of advisory summaries.
	ListAdvisories(ctx context.Context, q AdvisoryQuery) (*AdvisoryPage, error)
	// AdvisoryDigests maps every stored advisory id to its SHA-256 (sync).
	AdvisoryDigests(ctx context.Context) (map[string]string, error)
	// ScanAdvisories streams every advisory in id order.
	ScanAdvisories(ctx context.Context, fn func(*advisory.Advisory) error) error
	// KEV returns the stored KEV catalog (ErrNotFound when none was imported).
	KEV(ctx context.Context) (*kev.Catalog, error)
	// EPSS returns the stored EPSS scores (ErrNotFound when none were imported).
	EPSS(ctx context.Context) (*epss.File, error)
	// ScanNVD streams every stored NVD CVE record (id, exact JSON) in id order.
	ScanNVD(ctx context.Context, fn func(id string, raw []byte) error) error
	// ListFeeds returns the status of every feed, by name.
	ListFeeds(ctx context.Context) ([]FeedStatus, error)
	// RecordFeedError notes a failed import of a feed outside any import
	// transaction (so it survives the rollback); the last good data stays.
	RecordFeedError(ctx context.Context, f FeedStatus, msg string) error
}

// FeedTx is what a feed import may do inside its transaction.
type FeedTx interface {
	// PutAdvisory inserts or replaces an advisory by id.
	PutAdvisory(ctx context.Context, a *advisory.Advisory, feed string) error
	// ReplaceKEV replaces the whole KEV catalog.
	ReplaceKEV(ctx context.Context, c *kev.Catalog) error
	// ReplaceEPSS replaces every EPSS score.
	ReplaceEPSS(ctx context.Context, f *epss.File) error
	// PutNVD inserts or replaces one NVD CVE record.
	PutNVD(ctx context.Context, id string, lastModified time.Time, raw []byte) error
	// SetFeed records a successful import of a feed (clears its last error).
	SetFeed(ctx context.Context, f FeedStatus) error
}

// Feed kinds.
const (
	FeedCSAF = "csaf"
	FeedKEV  = "kev"
	FeedEPSS = "epss"
	FeedNVD  = "nvd"
)

// FeedStatus is what is known about one feed.
type FeedStatus struct {
	Name   string `json:"name"`   // "kev", "epss", "nvd", "csaf:<source>"
	Kind   string `json:"kind"`   // FeedCSAF, FeedKEV, FeedEPSS, FeedNVD
	Source string `json:"source"` // file, directory or URL last imported from
	// ImportedAt is the last successful import; zero when none succeeded.
	ImportedAt time.Time `json:"imported_at,omitzero"`
	// FeedDate is the feed's own date: KEV dateReleased, EPSS score date,
	// CSAF provider last_updated or newest advisory release, NVD newest
	// lastModified.
	FeedDate time.Time `json:"feed_date,omitzero"`
	// Version is the KEV catalog version or the EPSS model version.
	Version   string    `json:"version,omitempty"`
	Items     int64     `json:"items"`
	LastError string    `json:"last_error,omitempty"`
	ErrorAt   time.Time `json:"error_at,omitzero"`
}

// AdvisoryQuery selects a page of advisories.
type AdvisoryQuery struct {
	Publisher string // exact, case-insensitive
	CVE       string // advisories naming this CVE
	Search    string // substring of id or title, case-insensitive
	Limit     int    // default 50, at most 1000
	Cursor    string // opaque, from AdvisoryPage.Next
}

// AdvisorySummary is one row of an advisory list.
type AdvisorySummary struct {
	ID             string    `json:"id"`
	Title          string    `json:"title"`
	Publisher      string    `json:"publisher"`
	CurrentRelease time.Time `json:"current_release"`
	CVEs           []string  `json:"cves"`
	Feed           string    `json:"feed"`
	Source         string    `json:"source"`
	SHA256         string    `json:"sha256"`
}

// AdvisoryPage is one page of an advisory list.
type AdvisoryPage struct {
	Advisories []AdvisorySummary `json:"advisories"`
	Next       string            `json:"next,omitempty"`
}
