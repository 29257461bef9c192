package sensor

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// pcapRecords reads every record of a classic pcap with the sensor's
// source and with pcapgo.Reader (what the source replaced) and describes
// both runs, the error that ended them included.
func pcapRecords(t testing.TB, data []byte) (got, want string, ok bool) {
	src, err := OpenCapture(bytes.NewReader(data), "x")
	if err != nil {
		return "", "", false
	}
	if _, isPcap := src.(*pcapSource); !isPcap {
		return "", "", false
	}
	var g, w strings.Builder
	for i := 0; i < 1<<16; i++ {
		fr, err := src.Next()
		if err != nil {
			fmt.Fprintf(&g, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&g, "%d %v %d %d %x\n", i, fr.Time, fr.Length, fr.LinkType, fr.Data)
	}
	br := bytes.NewReader(data)
	if data[0] == 0x1f {
		// OpenCapture un-gzips; give pcapgo the same bytes.
		return g.String(), "", false
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		t.Fatalf("pcapgo rejects what OpenCapture accepted: %v", err)
	}
	for i := 0; i < 1<<16; i++ {
		d, ci, err := pr.ZeroCopyReadPacketData()
		if err != nil {
			fmt.Fprintf(&w, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&w, "%d %v %d %d %x\n", i, ci.Timestamp, ci.Length, pr.LinkType(), d)
	}
	return g.String(), w.String(), true
}

// pcapFile builds a classic pcap: magic, snap length, and records of
// (caplen, origlen, data, usec).
func pcapFile(magic uint32, order binary.ByteOrder, snaplen uint32, recs ...[]byte) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, magic)
	order.PutUint16(b[4:], 2)
	order.PutUint16(b[6:], 4)
	order.PutUint32(b[16:], snaplen)
	order.PutUint32(b[20:], 1)
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

func pcapRecord(order binary.ByteOrder, sec, frac, capLen, origLen uint32, data []byte) []byte {
	h := make([]byte, 16)
	order.PutUint32(h, sec)
	order.PutUint32(h[4:], frac)
	order.PutUint32(h[8:], capLen)
	order.PutUint32(h[12:], origLen)
	return append(h, data...)
}

func pcapSeeds() [][]byte {
	var seeds [][]byte
	le, be := binary.LittleEndian, binary.BigEndian
	for _, m := range []struct {
		magic uint32
		order binary.ByteOrder
	}{{0xa1b2c3d4, le}, {0xd4c3b2a1, be}, {0xa1b23c4d, le}, {0x4d3cb2a1, be}} {
		o := m.order
		ok := pcapRecord(o, 1700000000, 999999, 4, 60, []byte{1, 2, 3, 4})
		seeds = append(seeds,
			pcapFile(m.magic, o, 65535, ok, ok),
			pcapFile(m.magic, o, 65535, ok, pcapRecord(o, 1, 4294967295, 0, 0, nil)),                // wrapping fraction, empty record
			pcapFile(m.magic, o, 65535, ok, pcapRecord(o, 1, 2, 5, 4, []byte("abcde"))),             // caplen > origlen
			pcapFile(m.magic, o, 16, ok, pcapRecord(o, 1, 2, 300000, 300000, nil)),                  // caplen > max(snaplen, 262144)
			pcapFile(m.magic, o, 400000, pcapRecord(o, 1, 2, 300000, 300000, make([]byte, 300000))), // above the buffer
			pcapFile(m.magic, o, 400000, pcapRecord(o, 1, 2, 300000, 300000, make([]byte, 1000))),   // cut inside it
			pcapFile(m.magic, o, 65535, ok, pcapRecord(o, 1, 2, 10, 10, nil)),                       // header, no data
			pcapFile(m.magic, o, 65535, ok, pcapRecord(o, 1, 2, 10, 10, []byte("abc"))),             // cut data
			pcapFile(m.magic, o, 65535, ok, []byte{1, 2, 3}),                                        // cut header
		)
	}
	return seeds
}

// TestPcapSourceMatchesPcapgo: records, timestamps, lengths and the
// ending error are pcapgo's, on built edge cases and on every classic pcap
// of the test data (and of the shared corpus when it is there).
func TestPcapSourceMatchesPcapgo(t *testing.T) {
	t.Parallel()
	inputs := pcapSeeds()
	files, _ := filepath.Glob("testdata/*")
	if dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "pcap", "*", "*"))
		files = append(files, more...)
	}
	compared := 0
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && len(b) < 64<<20 {
			inputs = append(inputs, b)
		}
	}
	for i, in := range inputs {
		got, want, ok := pcapRecords(t, in)
		if !ok {
			continue
		}
		compared++
		if got != want {
			t.Errorf("input %d: the source read\n%.2000s\npcapgo read\n%.2000s", i, got, want)
		}
	}
	if compared < len(pcapSeeds())+3 {
		t.Errorf("only %d classic pcap inputs compared", compared)
	}
}

func FuzzPcapSource(f *testing.F) {
	for _, s := range pcapSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if got, want, ok := pcapRecords(t, data); ok && got != want {
			t.Errorf("the source read\n%.2000s\npcapgo read\n%.2000s", got, want)
		}
	})
}
