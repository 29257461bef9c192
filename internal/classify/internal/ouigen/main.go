// Command ouigen turns the IEEE registries shipped by Debian's ieee-data
// package (MA-L oui.csv, MA-M mam.csv, MA-S oui36.csv and the older IAB
// iab.csv) into the compact table embedded by package classify:
// gzip-compressed lines "PREFIX<TAB>Organization", PREFIX being 6, 7 or 9
// upper-case hex digits, sorted. The first line records the source date.
//
//	go run ./internal/ouigen -dir /usr/share/ieee-data -out oui.tsv.gz
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", "/usr/share/ieee-data", "directory holding the ieee-data CSV files")
	out := flag.String("out", "oui.tsv.gz", "output file")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ouigen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	entries := map[string]string{}
	for _, f := range []string{"oui.csv", "mam.csv", "oui36.csv", "iab.csv"} {
		if err := readCSV(filepath.Join(dir, f), entries); err != nil {
			return err
		}
	}
	if len(entries) < 1000 {
		return fmt.Errorf("only %d entries read from %s: is ieee-data installed?", len(entries), dir)
	}
	date := "unknown"
	if b, err := os.ReadFile(filepath.Join(dir, ".lastupdate")); err == nil {
		date = strings.TrimSpace(string(b))
		if sec, err := strconv.ParseInt(date, 10, 64); err == nil {
			date = time.Unix(sec, 0).UTC().Format("2006-01-02")
		}
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tmp := out + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(fh, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	fmt.Fprintf(bw, "#ieee-data %s\n", date)
	for _, k := range keys {
		fmt.Fprintf(bw, "%s\t%s\n", k, entries[k])
	}
	if err := errors.Join(bw.Flush(), zw.Close(), fh.Sync(), fh.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func readCSV(path string, into map[string]string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	line := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line++
		if err != nil {
			return fmt.Errorf("%s line %d: %w", path, line, err)
		}
		if line == 1 || len(rec) < 3 {
			continue
		}
		prefix := strings.ToUpper(strings.TrimSpace(rec[1]))
		org := strings.Join(strings.Fields(rec[2]), " ")
		// "IEEE Registration Authority" owns the blocks it subdivides into
		// MA-M and MA-S assignments: it is never a device's maker.
		if org == "" || strings.EqualFold(org, "private") || strings.EqualFold(org, "IEEE Registration Authority") || (len(prefix) != 6 && len(prefix) != 7 && len(prefix) != 9) {
			continue
		}
		into[prefix] = org
	}
}
