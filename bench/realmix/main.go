// Command realmix builds a large benchmark capture from real ones: it
// repeats every Ethernet capture given (files or directories, searched
// recursively; the format is detected by content) round after round until
// the output reaches -size bytes. Each round gets its own addresses (IPv4
// second octet and IPv6 fourth byte XOR the round number, MAC byte 4 too)
// so flows do not merge across rounds, and its own time span.
// Checksums are not recomputed: run peers with checksum validation off
// (suricata -k none).
//
//	go run ./bench/realmix -size 1G -out /tmp/realmix.pcap /work/shared/data/pcap
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/medwarden/medwarden/internal/sensor"
)

type frame struct {
	data []byte
	off  time.Duration // from the start of its file
}

func main() {
	size := flag.String("size", "1G", "stop after this many bytes (suffix K, M, G)")
	out := flag.String("out", "/tmp/realmix.pcap", "output pcap file")
	skip := flag.String("skip", "fuzz,oobr,asan,overflow,infinite-loop", "comma-separated name parts of files to leave out")
	flag.Parse()
	limit, err := parseSize(*size)
	if err != nil || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: realmix [-size 1G] [-out FILE] CAPTURE_OR_DIR...")
		os.Exit(2)
	}
	if err := run(flag.Args(), strings.Split(*skip, ","), limit, *out); err != nil {
		fmt.Fprintln(os.Stderr, "realmix:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

func run(args, skip []string, limit int64, out string) error {
	var files []string
	for _, a := range args {
		filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || strings.Contains(p, "/expected/") || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".csv") {
				return nil
			}
			for _, s := range skip {
				if s != "" && strings.Contains(filepath.Base(p), s) {
					return nil
				}
			}
			files = append(files, p)
			return nil
		})
	}
	sort.Strings(files)
	var caps [][]frame
	var span time.Duration
	for _, f := range files {
		fr, d, err := load(f)
		if err != nil || len(fr) == 0 {
			continue // not Ethernet, or not a capture
		}
		caps = append(caps, fr)
		span += d + time.Second
	}
	if len(caps) == 0 {
		return errors.New("no Ethernet capture found")
	}
	fh, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	var written, packets int64
	buf := make([]byte, 0, 65535)
	for round := 0; written < limit; round++ {
		t := start.Add(time.Duration(round) * span)
		for _, c := range caps {
			for _, f := range c {
				buf = append(buf[:0], f.data...)
				rewrite(buf, byte(round), byte(round>>8))
				ci := gopacket.CaptureInfo{Timestamp: t.Add(f.off), CaptureLength: len(buf), Length: len(buf)}
				if err := w.WritePacket(ci, buf); err != nil {
					return err
				}
				written += int64(len(buf) + 16)
				packets++
			}
			t = t.Add(c[len(c)-1].off + time.Second)
		}
	}
	if err := errors.Join(bw.Flush(), fh.Sync(), fh.Close()); err != nil {
		return err
	}
	fmt.Printf("%s: %d packets, %d bytes, %d source captures\n", out, packets, written+24, len(caps))
	return nil
}

// load reads an Ethernet capture; time offsets are compressed so that no
// gap exceeds one second.
func load(path string) ([]frame, time.Duration, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	src, err := sensor.OpenCapture(fh, path)
	if err != nil {
		return nil, 0, err
	}
	var out []frame
	var prev time.Time
	var off time.Duration
	for {
		fr, err := src.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || len(out) > 0 {
				break
			}
			return nil, 0, err
		}
		if fr.LinkType != layers.LinkTypeEthernet {
			return nil, 0, nil
		}
		if !prev.IsZero() {
			gap := fr.Time.Sub(prev)
			off += min(max(gap, 0), time.Second)
		}
		prev = fr.Time
		out = append(out, frame{data: append([]byte(nil), fr.Data...), off: off})
	}
	return out, off, nil
}

// rewrite gives each round its own addresses: MAC byte 4, IPv4 octet 2 and
// IPv6 byte 3 of both endpoints XOR the round (low byte; the high byte goes
// into MAC byte 3 and IPv4 octet 3 so many rounds stay distinct).
func rewrite(b []byte, lo, hi byte) {
	if len(b) < 14 {
		return
	}
	b[3] ^= hi
	b[4] ^= lo
	b[9] ^= hi
	b[10] ^= lo
	et := int(b[12])<<8 | int(b[13])
	p := b[14:]
	for (et == 0x8100 || et == 0x88a8) && len(p) >= 4 {
		et = int(p[2])<<8 | int(p[3])
		p = p[4:]
	}
	switch {
	case et == 0x0800 && len(p) >= 20:
		p[13] ^= lo
		p[17] ^= lo
		p[14] ^= hi
		p[18] ^= hi
	case et == 0x86dd && len(p) >= 40:
		p[8+3] ^= lo
		p[24+3] ^= lo
		p[8+4] ^= hi
		p[24+4] ^= hi
	}
}
