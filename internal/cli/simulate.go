package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/medwarden/medwarden/internal/simulate"
)

func simulateVerb() *Verb {
	return &Verb{
		Name:    "simulate",
		Summary: "write a realistic hospital network capture (pcap) and its ground truth",
		Usage:   "--out FILE.pcap [--devices N] [--minutes M] [--seed S] [--attacks LIST] [--large-studies N] [--tls-bytes N]",
		Help: `Writes FILE.pcap (Ethernet, classic pcap) with patient monitors sending HL7
ORU over MLLP to an interface engine, an EHR sending ADT/ORM, CT, MR and
ultrasound modalities storing images on a PACS over DICOM, POCT1-A and ASTM
analysers, and workstations using DHCP, DNS, NTP, TLS, HTTP and SMB; and
FILE.truth.json beside it (devices with MAC, IP, vendor, model and type;
the observations a sensor should make; edges; injected attacks).
The same seed always gives the same bytes.

--large-studies N makes every CT and MR also send, every 10 minutes from
minute 1, a full-resolution study of N 512x512 images (512 KiB each): a
few large DICOM transfers among the many small flows. --tls-bytes N makes
each workstation TLS session carry N bytes of encrypted application data,
which sets how much of the capture is ordinary IT traffic rather than
HL7/DICOM (benchmark captures with a chosen clinical share).

--attacks takes a comma-separated list, or "all":
` + "  " + strings.Join(simulate.Attacks, ", "),
		Run: func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
			out := fs.String("out", "", "capture to write (required); the ground truth goes to the same name with .truth.json")
			devices := fs.Int("devices", 20, "clinical devices and workstations besides the servers (1-5000)")
			minutes := fs.Int("minutes", 10, "length of the capture in minutes (1-1440)")
			seed := fs.Uint64("seed", 1, "random seed")
			attacks := fs.String("attacks", "", `attacks to inject: comma-separated kinds or "all"`)
			large := fs.Int("large-studies", 0, "images per full-resolution CT/MR study sent every 10 minutes (0: none, up to 2000)")
			tlsBytes := fs.Int("tls-bytes", 0, "encrypted application bytes per workstation TLS session (0: handshake only, up to 100000000)")
			pos, err := parseFlags(fs, args)
			if err != nil {
				return err
			}
			if len(pos) > 0 {
				return usageErr("unexpected argument %q", pos[0])
			}
			if *out == "" || *out == "-" {
				return usageErr("--out FILE.pcap is required")
			}
			cfg := simulate.Config{Devices: *devices, Minutes: *minutes, Seed: *seed, LargeStudies: *large, TLSBytes: *tlsBytes}
			if a := strings.TrimSpace(*attacks); a == "all" {
				cfg.Attacks = simulate.Attacks
			} else if a != "" {
				for _, k := range strings.Split(a, ",") {
					cfg.Attacks = append(cfg.Attacks, strings.TrimSpace(k))
				}
			}
			if err := cfg.Validate(); err != nil {
				return usageErr("%v", err)
			}
			var truth *simulate.Truth
			if err := writeAtomic(*out, env.Stdout, func(w io.Writer) error {
				t, err := simulate.Generate(ctx, w, cfg)
				truth = t
				return err
			}); err != nil {
				if errors.Is(err, simulate.ErrConfig) {
					return usageErr("%v", err)
				}
				return err
			}
			truthPath := strings.TrimSuffix(*out, ".pcap") + ".truth.json"
			if err := writeAtomic(truthPath, env.Stdout, func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(truth)
			}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "wrote %s (%d packets, %d bytes, %d devices, %d attacks) and %s\n",
				*out, truth.Packets, truth.Bytes, len(truth.Devices), len(truth.Attacks), truthPath)
			return nil
		},
	}
}
