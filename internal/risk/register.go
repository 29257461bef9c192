package risk

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Assessed is one scored device as the register sees it.
type Assessed struct {
	AssetID    string
	Site       string
	Department string
	DeviceType string
	Vendor     string
	// Score and Band are the device risk (0 and info without findings).
	Score    float64
	Band     Band
	Findings int
	// KEV is true when at least one finding is in CISA KEV.
	KEV bool
}

// BandCounts counts devices per band.
type BandCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

func (c *BandCounts) add(b Band) {
	switch b {
	case BandCritical:
		c.Critical++
	case BandHigh:
		c.High++
	case BandMedium:
		c.Medium++
	case BandLow:
		c.Low++
	default:
		c.Info++
	}
}

// Group is one row of the register: the devices sharing a key.
type Group struct {
	Key string `json:"key"`
	// Devices is every device of the group; Affected those with at least
	// one finding, Findings the total number of findings.
	Devices  int `json:"devices"`
	Affected int `json:"affected"`
	Findings int `json:"findings"`
	// Bands counts affected devices per band (devices without findings are
	// not counted).
	Bands BandCounts `json:"bands"`
	// MaxScore and MeanScore are over affected devices (0 when none);
	// MeanScore is rounded to tenths.
	MaxScore  float64 `json:"max_score"`
	MeanScore float64 `json:"mean_score"`
	// KEVDevices counts devices with at least one KEV finding.
	KEVDevices int `json:"kev_devices"`

	sum int64 // tenths: exact, so the order of devices does not matter
}

func (g *Group) add(a *Assessed) {
	g.Devices++
	if a.Findings == 0 {
		return
	}
	g.Affected++
	g.Findings += a.Findings
	g.Bands.add(a.Band)
	g.MaxScore = max(g.MaxScore, a.Score)
	g.sum += tenths(a.Score)
	if a.KEV {
		g.KEVDevices++
	}
}

func (g *Group) finish() {
	if g.Affected > 0 {
		g.MeanScore = math.Round(float64(g.sum)/float64(g.Affected)) / 10
	}
}

// Register is the risk register: totals and aggregates by site,
// department, device type and vendor. Rows are sorted by max score
// descending, then mean score descending, then key; empty keys read
// "(unknown)".
type Register struct {
	Total        Group   `json:"total"`
	BySite       []Group `json:"by_site"`
	ByDepartment []Group `json:"by_department"`
	ByDeviceType []Group `json:"by_device_type"`
	ByVendor     []Group `json:"by_vendor"`
}

// UnknownKey labels devices whose grouping field is empty.
const UnknownKey = "(unknown)"

// BuildRegister aggregates scored devices. It is deterministic: the same
// devices in any order give the same register.
func BuildRegister(items []Assessed) Register {
	r := Register{Total: Group{Key: "all"}}
	site := map[string]*Group{}
	dept := map[string]*Group{}
	typ := map[string]*Group{}
	ven := map[string]*Group{}
	addTo := func(m map[string]*Group, key string, a *Assessed) {
		key = strings.TrimSpace(key)
		if key == "" {
			key = UnknownKey
		}
		g := m[key]
		if g == nil {
			g = &Group{Key: key}
			m[key] = g
		}
		g.add(a)
	}
	for i := range items {
		a := &items[i]
		r.Total.add(a)
		addTo(site, a.Site, a)
		addTo(dept, a.Department, a)
		addTo(typ, a.DeviceType, a)
		addTo(ven, a.Vendor, a)
	}
	r.Total.finish()
	r.BySite = rows(site)
	r.ByDepartment = rows(dept)
	r.ByDeviceType = rows(typ)
	r.ByVendor = rows(ven)
	return r
}

func rows(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		g.finish()
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		if c := cmp.Compare(b.MaxScore, a.MaxScore); c != 0 {
			return c
		}
		if c := cmp.Compare(b.MeanScore, a.MeanScore); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Snapshot is the register of one day, the unit of trend storage.
type Snapshot struct {
	// Date is the calendar day (UTC) "2006-01-02".
	Date string `json:"date"`
	Register
}

// TakeSnapshot returns the snapshot of day (its UTC date) for the scored
// devices. Deterministic: it depends only on the date and the devices.
func TakeSnapshot(day time.Time, items []Assessed) Snapshot {
	return Snapshot{Date: day.UTC().Format("2006-01-02"), Register: BuildRegister(items)}
}
