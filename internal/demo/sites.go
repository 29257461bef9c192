package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
)

// Site describes one hospital of the demo health system, for the UI and
// for loading the store: identity, campus layout and the address plan.
type Site struct {
	Code      string     `json:"code"` // short code, prefix of asset ids and hostnames, e.g. "NBR"
	Name      string     `json:"name"`
	Kind      string     `json:"kind"` // e.g. "University medical centre"
	City      string     `json:"city"`
	Address   string     `json:"address"`
	Campus    string     `json:"campus"`
	Devices   int        `json:"devices"` // devices Generate emits for this site
	Buildings []Building `json:"buildings"`
	Units     []Unit     `json:"units"`
	VLANs     []VLAN     `json:"vlans"`
}

// Building is a building of a site campus.
type Building struct {
	Code   string   `json:"code"`
	Name   string   `json:"name"`
	Floors []string `json:"floors"` // floor labels in use, lowest first ("B1", "L1", ...)
}

// Unit is a clinical or support unit: where devices of a department are.
type Unit struct {
	Department string `json:"department"`
	Name       string `json:"name"`
	Building   string `json:"building"` // building name
	Floor      string `json:"floor"`
}

// VLAN is one network zone at a site with its subnets. Addresses .1 of
// each subnet is the gateway, .2 to .9 are kept for network equipment and
// devices get .10 to .254.
type VLAN struct {
	ID          int            `json:"id"`
	Zone        string         `json:"zone"`
	Description string         `json:"description"`
	Subnets     []netip.Prefix `json:"subnets"`
	Devices     int            `json:"devices"`
}

// departments are the departments devices belong to, with their hostname
// codes.
var departments = []struct{ Name, Code string }{
	{"ICU", "icu"}, {"ED", "ed"}, {"OR", "or"}, {"Radiology", "rad"}, {"Cardiology", "card"},
	{"Lab", "lab"}, {"Pharmacy", "phar"}, {"Oncology", "onc"}, {"NICU", "nicu"}, {"Med-Surg", "msu"},
	{"Maternity", "mat"}, {"Dialysis", "dial"}, {"Neurology", "neu"}, {"Facilities", "fac"}, {"IT", "it"},
	{"Security", "sec"},
}

func departmentIndex(name string) int {
	return slices.IndexFunc(departments, func(d struct{ Name, Code string }) bool { return d.Name == name })
}

// hostsPerSubnet is how many device addresses one /24 gives (.10 to .254).
const hostsPerSubnet = 245

// building roles, in the order of buildingTemplates.
const (
	bMain = iota
	bWing
	bDiag
	bOutpatient
	bPlant
	bDataCentre
)

var largeBuildings = []struct{ Code, Name string }{
	{"MT", "Main Tower"}, {"NW", "North Wing"}, {"DP", "Diagnostics Pavilion"},
	{"OC", "Outpatient Centre"}, {"EP", "Energy Plant"}, {"DC", "Data Centre"},
}

var smallBuildings = []struct{ Code, Name string }{
	{"MH", "Main Hospital"}, {"MH", "Main Hospital"}, {"MH", "Main Hospital"},
	{"OC", "Outpatient Centre"}, {"EP", "Energy Plant"}, {"MH", "Main Hospital"},
}

type unitTemplate struct {
	dept     string
	name     string
	building int
	floor    string
	large    bool // only at large sites
	small    bool // only at small sites
}

var unitTemplates = []unitTemplate{
	{"ED", "Emergency Department", bMain, "L1", false, false},
	{"ICU", "ICU 3 East", bMain, "L3", true, false},
	{"ICU", "ICU 3 West", bMain, "L3", true, false},
	{"ICU", "ICU", bMain, "L3", false, true},
	{"NICU", "NICU", bMain, "L4", false, false},
	{"Maternity", "Labour & Delivery", bMain, "L4", false, false},
	{"OR", "Operating Theatres", bMain, "L2", false, false},
	{"OR", "Day Surgery", bOutpatient, "L1", false, false},
	{"Med-Surg", "Ward 5 North", bMain, "L5", true, false},
	{"Med-Surg", "Ward 5 South", bMain, "L5", true, false},
	{"Med-Surg", "Ward 6 North", bMain, "L6", true, false},
	{"Med-Surg", "Ward 6 South", bMain, "L6", true, false},
	{"Med-Surg", "Ward 7", bMain, "L7", true, false},
	{"Med-Surg", "Ward 2A", bMain, "L2", false, true},
	{"Med-Surg", "Ward 3A", bMain, "L3", false, true},
	{"Cardiology", "Cardiology & Cath Lab", bWing, "L2", false, false},
	{"Oncology", "Oncology Day Unit", bWing, "L3", false, false},
	{"Dialysis", "Renal Dialysis Unit", bWing, "L1", false, false},
	{"Neurology", "Neurophysiology", bWing, "L4", false, false},
	{"Radiology", "Radiology", bDiag, "L1", false, false},
	{"Radiology", "Nuclear Medicine", bDiag, "B1", true, false},
	{"Lab", "Core Laboratory", bDiag, "L2", false, false},
	{"Lab", "Blood Bank", bDiag, "L2", false, false},
	{"Pharmacy", "Inpatient Pharmacy", bMain, "B1", false, false},
	{"Facilities", "Plant Room", bPlant, "L1", false, false},
	{"IT", "Server Room", bDataCentre, "L1", false, false},
	{"Security", "Security Office", bMain, "L1", false, false},
}

// largeSiteDevices is the size from which a site gets the full campus.
const largeSiteDevices = 1000

var towns = []struct{ Name, Code, Street string }{
	{"Northbridge", "NBR", "Infirmary Road"}, {"Westmere", "WMR", "Hospital Drive"},
	{"Ashvale", "ASV", "Medical Parkway"}, {"Brackenford", "BRF", "Station Road"},
	{"Caldermoor", "CDM", "Queen's Avenue"}, {"Dunmere", "DNM", "Harbour Street"},
	{"Elmbrook", "ELB", "Elm Grove"}, {"Fairhaven", "FHV", "Beacon Lane"},
	{"Glenrock", "GLR", "Mill Road"}, {"Hollowell", "HLW", "Church Street"},
	{"Juniper Falls", "JNF", "Riverside Drive"}, {"Kestrel Bay", "KSB", "Cliff Road"},
	{"Larkspur", "LKS", "Meadow Way"}, {"Millbrook", "MLB", "Bridge Street"},
	{"Newhollow", "NHW", "King Street"}, {"Oakridge", "OKR", "Ridge Road"},
	{"Pinecrest", "PNC", "Forest Avenue"}, {"Ravensworth", "RVW", "Castle Hill"},
	{"Stonehaven", "STH", "Quarry Lane"}, {"Thornbury", "THB", "Market Place"},
	{"Upton Vale", "UPV", "Vale Road"}, {"Valemont", "VLM", "College Road"},
	{"Willowmere", "WLM", "Lakeside Drive"}, {"Yarrowby", "YRB", "North Street"},
	{"Ambercross", "AMC", "Cross Street"}, {"Birchwood", "BRW", "Birch Avenue"},
	{"Cedarfield", "CDF", "Park Lane"}, {"Drummond Hill", "DRH", "Hill Road"},
	{"Eastcombe", "ECB", "London Road"}, {"Foxley", "FXL", "Green Lane"},
}

var siteKinds = []string{"General Hospital", "Community Hospital", "Regional Medical Centre", "District Hospital"}

// sitePlan is a site with what Generate needs to fill it.
type sitePlan struct {
	Site
	num         int   // 1-based site number
	typeCum     []int // cumulative device counts per catalog type
	permA       int   // position permutation j -> (permA*j + permB) mod Devices
	permB       int
	unitsByDept [][]int // per department index: indices into Units
	zoneStart   []int   // per zone: its first /24 as an index x into 10.0.0.0/8 (10.x>>8.x&255.0/24)
}

type plan struct {
	sites []sitePlan
	large bool // large address plan: consecutive /24s in 10.0.0.0/8
}

// Sites describes the sites of the fleet Generate produces for cfg, or nil
// when cfg is invalid (see Config.Validate).
func Sites(cfg Config) []Site {
	if cfg.Validate() != nil {
		return nil
	}
	cat, err := LoadCatalog()
	if err != nil {
		return nil
	}
	p := newPlan(cfg, cat)
	out := make([]Site, len(p.sites))
	for i := range p.sites {
		out[i] = p.sites[i].Site
	}
	return out
}

func newPlan(cfg Config, cat *Catalog) *plan {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5173_5eed_0000_0001))
	n := cfg.SiteCount()
	// site sizes: the first site is the flagship teaching hospital.
	weights := make([]float64, n)
	for i := range weights {
		weights[i] = 0.6 + float64(1.2*rng.Float64()) // no fused multiply-add: same fleet on every architecture
	}
	weights[0] = 2.5
	if n == 1 {
		weights[0] = 1
	}
	// every site gets one device, the rest goes by weight (Validate ensures
	// Devices >= sites)
	sizes := apportion(cfg.Devices-n, weights, nil)
	for i := range sizes {
		sizes[i]++
	}

	p := &plan{sites: make([]sitePlan, n)}
	typeWeights := make([]float64, len(cat.Types))
	mins := make([]int, len(cat.Types))
	for i, t := range cat.Types {
		typeWeights[i] = t.Weight
		mins[i] = t.MinPerSite
	}
	// the flagship site has at least one device of every type
	flagshipMins := make([]int, len(mins))
	for i, m := range mins {
		flagshipMins[i] = max(m, 1)
	}
	zoneIndex := map[string]int{}
	for i, z := range cat.Zones {
		zoneIndex[z.Name] = i
	}
	zoneCounts := make([][]int, n)
	for i := range p.sites {
		sp := &p.sites[i]
		sp.num = i + 1
		sp.Devices = sizes[i]
		town := towns[i%len(towns)]
		round := i / len(towns)
		sp.Code = town.Code
		sp.City = town.Name
		sp.Campus = "Main campus"
		if round > 0 {
			sp.Code += strconv.Itoa(round + 1)
			sp.Campus = fmt.Sprintf("Campus %d", round+1)
		}
		if i == 0 {
			sp.Kind = "University Medical Centre"
		} else {
			sp.Kind = siteKinds[rng.IntN(len(siteKinds))]
		}
		sp.Name = town.Name + " " + sp.Kind
		if round > 0 {
			sp.Name += " " + sp.Campus
		}
		sp.Address = fmt.Sprintf("%d %s, %s", 10+rng.IntN(990), town.Street, town.Name)
		sp.buildLayout()

		siteMins := mins
		if i == 0 {
			siteMins = flagshipMins
		}
		counts := apportion(sp.Devices, typeWeights, siteMins)
		sp.typeCum = make([]int, len(counts))
		sum := 0
		zc := make([]int, len(cat.Zones))
		for t, c := range counts {
			sum += c
			sp.typeCum[t] = sum
			zc[zoneIndex[cat.Types[t].Zone]] += c
		}
		zoneCounts[i] = zc
		if sp.Devices > 0 {
			sp.permA = coprime(sp.Devices, rng)
			sp.permB = rng.IntN(sp.Devices)
		}
	}

	// address plan
	p.large = n > 250
	for i := range p.sites {
		for z, c := range zoneCounts[i] {
			if subnetsFor(c) > cat.Zones[z].Span {
				p.large = true
			}
		}
	}
	next := 0 // next free /24 in 10.0.0.0/8 (large plan); 10.0.0.0/24 stays unused
	if p.large {
		next = 1
	}
	for i := range p.sites {
		sp := &p.sites[i]
		sp.zoneStart = make([]int, len(cat.Zones))
		for z, zone := range cat.Zones {
			c := zoneCounts[i][z]
			k := subnetsFor(c)
			v := VLAN{ID: zone.VLAN, Zone: zone.Name, Description: zone.Description, Devices: c}
			for s := range k {
				var x int
				if p.large {
					x = next + s
				} else {
					x = sp.num<<8 | (zone.Octet + s)
				}
				v.Subnets = append(v.Subnets, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(x >> 8), byte(x), 0}), 24))
			}
			if p.large {
				sp.zoneStart[z] = next
				next += k
			} else {
				sp.zoneStart[z] = sp.num<<8 | zone.Octet
			}
			sp.VLANs = append(sp.VLANs, v)
		}
	}
	return p
}

// subnetsFor is the number of /24 subnets that hold c devices (at least one,
// so every site has every VLAN).
func subnetsFor(c int) int { return max(1, (c+hostsPerSubnet-1)/hostsPerSubnet) }

func (sp *sitePlan) buildLayout() {
	large := sp.Devices >= largeSiteDevices
	tmpl := smallBuildings
	if large {
		tmpl = largeBuildings
	}
	floors := map[string][]string{}
	sp.unitsByDept = make([][]int, len(departments))
	for _, u := range unitTemplates {
		if (u.large && !large) || (u.small && large) {
			continue
		}
		b := tmpl[u.building]
		if _, ok := floors[b.Name]; !ok {
			sp.Buildings = append(sp.Buildings, Building{Code: b.Code, Name: b.Name})
		}
		if !slices.Contains(floors[b.Name], u.floor) {
			floors[b.Name] = append(floors[b.Name], u.floor)
		}
		d := departmentIndex(u.dept)
		sp.unitsByDept[d] = append(sp.unitsByDept[d], len(sp.Units))
		sp.Units = append(sp.Units, Unit{Department: u.dept, Name: u.name, Building: b.Name, Floor: u.floor})
	}
	for i := range sp.Buildings {
		f := floors[sp.Buildings[i].Name]
		slices.SortFunc(f, func(a, b string) int { return floorRank(a) - floorRank(b) })
		sp.Buildings[i].Floors = f
	}
}

func floorRank(f string) int {
	n, _ := strconv.Atoi(f[1:])
	if f[0] == 'B' {
		return -n
	}
	return n
}

// apportion splits total over weights by the largest-remainder method, after
// giving each entry its minimum when total is large enough for that (four
// times the sum of the minimums).
func apportion(total int, weights []float64, mins []int) []int {
	out := make([]int, len(weights))
	sumMin := 0
	for _, m := range mins {
		sumMin += m
	}
	if sumMin > 0 && total >= 4*sumMin {
		copy(out, mins)
		total -= sumMin
	}
	var sumW float64
	for _, w := range weights {
		sumW += w
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		q := float64(total) * w / sumW
		f := math.Floor(q)
		out[i] += int(f)
		given += int(f)
		rems[i] = rem{i, q - f}
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return a.i - b.i
	})
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// coprime returns a multiplier in [1, n) coprime with n (1 when n < 3).
func coprime(n int, rng *rand.Rand) int {
	if n < 3 {
		return 1
	}
	for {
		a := 1 + rng.IntN(n-1)
		if gcd(a, n) == 1 {
			return a
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
