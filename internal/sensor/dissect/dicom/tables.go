package dicom

import (
	_ "embed"
	"strings"
)

//go:embed sop_classes.tsv
var sopClassesTSV string

//go:embed implementations.tsv
var implementationsTSV string

// SOPClass is one entry of the embedded SOP class table.
type SOPClass struct {
	UID, Name string
	// Kind: "storage:CT" (image storage from a modality of that type),
	// "storage", "qr-find", "qr-move", "qr-get", "worklist", "mpps",
	// "commitment", "verification" or "print".
	Kind string
}

// Implementation is a vendor and product for an implementation class UID root.
type Implementation struct {
	Root, Vendor, Product string
}

type tables struct {
	sop   map[string]SOPClass
	impls []Implementation
}

func loadTables() *tables {
	t := &tables{sop: map[string]SOPClass{}}
	for _, line := range strings.Split(sopClassesTSV, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 3 && !strings.HasPrefix(line, "#") {
			t.sop[f[0]] = SOPClass{UID: f[0], Name: f[1], Kind: f[2]}
		}
	}
	for _, line := range strings.Split(implementationsTSV, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 3 && !strings.HasPrefix(line, "#") {
			t.impls = append(t.impls, Implementation{Root: f[0], Vendor: f[1], Product: f[2]})
		}
	}
	return t
}

// LookupSOPClass returns the table entry of a SOP class UID.
func (d *Dissector) LookupSOPClass(uid string) (SOPClass, bool) {
	c, ok := d.t.sop[uid]
	return c, ok
}

// LookupImplementation returns the vendor of an implementation class UID
// by its longest known root.
func (d *Dissector) LookupImplementation(uid string) (Implementation, bool) {
	var best Implementation
	for _, im := range d.t.impls {
		if len(im.Root) > len(best.Root) && strings.HasPrefix(uid, im.Root) && (len(uid) == len(im.Root) || uid[len(im.Root)] == '.') {
			best = im
		}
	}
	return best, best.Root != ""
}

// sopName renders a SOP class by name when known, else by UID.
func (d *Dissector) sopName(uid string) string {
	if c, ok := d.t.sop[uid]; ok {
		return c.Name
	}
	return uid
}

var transferSyntaxes = map[string]string{
	"1.2.840.10008.1.2":          "Implicit VR Little Endian",
	"1.2.840.10008.1.2.1":        "Explicit VR Little Endian",
	"1.2.840.10008.1.2.1.99":     "Deflated Explicit VR Little Endian",
	"1.2.840.10008.1.2.2":        "Explicit VR Big Endian",
	"1.2.840.10008.1.2.4.50":     "JPEG Baseline",
	"1.2.840.10008.1.2.4.51":     "JPEG Extended",
	"1.2.840.10008.1.2.4.57":     "JPEG Lossless",
	"1.2.840.10008.1.2.4.70":     "JPEG Lossless SV1",
	"1.2.840.10008.1.2.4.80":     "JPEG-LS Lossless",
	"1.2.840.10008.1.2.4.81":     "JPEG-LS Near-Lossless",
	"1.2.840.10008.1.2.4.90":     "JPEG 2000 Lossless",
	"1.2.840.10008.1.2.4.91":     "JPEG 2000",
	"1.2.840.10008.1.2.4.100":    "MPEG2 Main Profile",
	"1.2.840.10008.1.2.4.102":    "MPEG-4 AVC/H.264",
	"1.2.840.10008.1.2.5":        "RLE Lossless",
	"1.2.840.10008.1.2.4.201":    "HTJ2K Lossless",
	"1.2.840.10008.1.2.4.203":    "HTJ2K",
	"1.2.840.10008.1.2.1.98":     "Encapsulated Uncompressed Explicit VR Little Endian",
	"1.2.840.10008.1.2.4.202":    "HTJ2K Lossless RPCL",
	"1.2.840.10008.1.2.4.101":    "MPEG2 Main Profile High Level",
	"1.2.840.10008.1.2.4.103":    "MPEG-4 AVC/H.264 BD-compatible",
	"1.2.840.10008.1.2.4.104":    "MPEG-4 AVC/H.264 High Profile 2D",
	"1.2.840.10008.1.2.4.105":    "MPEG-4 AVC/H.264 High Profile 3D",
	"1.2.840.10008.1.2.4.106":    "MPEG-4 AVC/H.264 Stereo",
	"1.2.840.10008.1.2.4.107":    "HEVC/H.265 Main Profile",
	"1.2.840.10008.1.2.4.108":    "HEVC/H.265 Main 10 Profile",
	"1.2.840.10008.1.2.4.204":    "HTJ2K RPCL",
	"1.2.840.10008.1.2.4.90.1.1": "JPEG 2000 Lossless (private)",
}

var commands = map[uint16]string{
	0x0001: "C-STORE-RQ", 0x8001: "C-STORE-RSP",
	0x0010: "C-GET-RQ", 0x8010: "C-GET-RSP",
	0x0020: "C-FIND-RQ", 0x8020: "C-FIND-RSP",
	0x0021: "C-MOVE-RQ", 0x8021: "C-MOVE-RSP",
	0x0030: "C-ECHO-RQ", 0x8030: "C-ECHO-RSP",
	0x0100: "N-EVENT-REPORT-RQ", 0x8100: "N-EVENT-REPORT-RSP",
	0x0110: "N-GET-RQ", 0x8110: "N-GET-RSP",
	0x0120: "N-SET-RQ", 0x8120: "N-SET-RSP",
	0x0130: "N-ACTION-RQ", 0x8130: "N-ACTION-RSP",
	0x0140: "N-CREATE-RQ", 0x8140: "N-CREATE-RSP",
	0x0150: "N-DELETE-RQ", 0x8150: "N-DELETE-RSP",
	0x0FFF: "C-CANCEL-RQ",
}

// statusClass names a DIMSE status (PS3.7 Annex C).
func statusClass(s uint16) string {
	switch {
	case s == 0x0000:
		return "success"
	case s == 0xFE00:
		return "cancel"
	case s == 0xFF00 || s == 0xFF01:
		return "pending"
	case s == 0x0001 || s == 0x0107 || s == 0x0116 || s&0xF000 == 0xB000:
		return "warning"
	default:
		return "failure"
	}
}
