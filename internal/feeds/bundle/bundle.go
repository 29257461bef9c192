// Package bundle writes and reads signed offline feed bundles: one
// tar+gzip archive holding manifest.json (feed names, dates, counts and
// the SHA-256 of every file), manifest.sig (a detached ed25519 signature
// over the exact manifest bytes, base64) and the feed files. Read verifies
// the signature against trusted keys and every file hash before returning
// anything, and refuses path tricks, duplicates, extra files and archives
// over its size limits.
package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Format is the manifest format id.
const Format = "medwarden-feed-bundle/1"

// Archive member names.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
)

// Limits of Read.
const (
	DefaultMaxTotal = 2 << 30 // decompressed bytes
	maxFiles        = 100000
	maxManifest     = 64 << 20
)

// Errors of Read; each is wrapped with the detail.
var (
	ErrBadSignature = errors.New("bundle signature does not verify with any trusted key")
	ErrTampered     = errors.New("bundle content does not match its manifest")
	ErrMalformed    = errors.New("malformed bundle")
)

// Manifest describes a bundle.
type Manifest struct {
	Format  string      `json:"format"`
	Created time.Time   `json:"created"`
	Feeds   []Feed      `json:"feeds"`
	Files   []FileEntry `json:"files"`
}

// Feed is one feed of the bundle and the files that carry it.
type Feed struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	FeedDate   time.Time `json:"feed_date,omitzero"`
	ImportedAt time.Time `json:"imported_at,omitzero"`
	Version    string    `json:"version,omitempty"`
	Items      int64     `json:"items"`
	Files      []string  `json:"files"`
}

// FileEntry is one file's name, size and SHA-256.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Write packs the feeds and files (path → content) into w, signing the
// manifest with priv. m.Files is filled in here.
func Write(w io.Writer, m Manifest, files map[string][]byte, priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return errors.New("bundle: not an ed25519 private key")
	}
	m.Format = Format
	names := make([]string, 0, len(files))
	for n := range files {
		if err := checkName(n); err != nil {
			return fmt.Errorf("bundle file %q: %w", n, err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	m.Files = m.Files[:0]
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		m.Files = append(m.Files, FileEntry{Path: n, Size: int64(len(files[n])), SHA256: hex.EncodeToString(sum[:])})
	}
	man, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle manifest: %w", err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, man))
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	add := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return fmt.Errorf("bundle %s: %w", name, err)
		}
		_, err := tw.Write(b)
		return err
	}
	if err := add(ManifestName, man); err != nil {
		return err
	}
	if err := add(SignatureName, []byte(sig+"\n")); err != nil {
		return err
	}
	for _, n := range names {
		if err := add(n, files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// checkName accepts clean relative slash paths only.
func checkName(n string) error {
	switch {
	case n == "", strings.HasPrefix(n, "/"), strings.Contains(n, "\\"), strings.ContainsRune(n, 0):
		return errors.New("not a clean relative path")
	case path.Clean(n) != n, n == ".", strings.HasPrefix(n, "../"), n == "..":
		return errors.New("not a clean relative path")
	case n == ManifestName, n == SignatureName:
		return errors.New("reserved name")
	}
	return nil
}

// Read reads a bundle from r (name is used in errors), verifies the
// manifest signature against the trusted keys and every file against the
// manifest, and returns the manifest and files. Nothing is returned unless
// everything verifies.
func Read(r io.Reader, name string, trusted []ed25519.PublicKey, maxTotal int64) (*Manifest, map[string][]byte, error) {
	if len(trusted) == 0 {
		return nil, nil, fmt.Errorf("bundle %s: no trusted key given", name)
	}
	if maxTotal <= 0 {
		maxTotal = DefaultMaxTotal
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w: not gzip: %w", name, ErrMalformed, err)
	}
	tr := tar.NewReader(io.LimitReader(gz, maxTotal+1))
	members := map[string][]byte{}
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bundle %s: %w: %w", name, ErrMalformed, err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, nil, fmt.Errorf("bundle %s member %q: %w: not a regular file", name, h.Name, ErrMalformed)
		}
		if h.Name != ManifestName && h.Name != SignatureName {
			if err := checkName(h.Name); err != nil {
				return nil, nil, fmt.Errorf("bundle %s member %q: %w: %w", name, h.Name, ErrMalformed, err)
			}
		}
		if _, dup := members[h.Name]; dup {
			return nil, nil, fmt.Errorf("bundle %s member %q: %w: appears twice", name, h.Name, ErrMalformed)
		}
		if len(members) >= maxFiles {
			return nil, nil, fmt.Errorf("bundle %s: %w: more than %d members", name, ErrMalformed, maxFiles)
		}
		if h.Size < 0 || total+h.Size > maxTotal {
			return nil, nil, fmt.Errorf("bundle %s: %w: larger than %d bytes", name, ErrMalformed, maxTotal)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, nil, fmt.Errorf("bundle %s member %q: %w: %w", name, h.Name, ErrMalformed, err)
		}
		if int64(len(b)) != h.Size {
			return nil, nil, fmt.Errorf("bundle %s member %q: %w: truncated", name, h.Name, ErrMalformed)
		}
		total += h.Size
		members[h.Name] = b
	}
	// The gzip trailer (CRC, length) is checked only at EOF: read it.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w: %w", name, ErrMalformed, err)
	}
	man, ok := members[ManifestName]
	if !ok || len(man) > maxManifest {
		return nil, nil, fmt.Errorf("bundle %s: %w: no %s", name, ErrMalformed, ManifestName)
	}
	sigText, ok := members[SignatureName]
	if !ok {
		return nil, nil, fmt.Errorf("bundle %s: %w: no %s", name, ErrMalformed, SignatureName)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("bundle %s: %w: %s is not a base64 ed25519 signature", name, ErrMalformed, SignatureName)
	}
	verified := false
	for _, k := range trusted {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, man, sig) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, nil, fmt.Errorf("bundle %s: %w", name, ErrBadSignature)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(man))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, fmt.Errorf("bundle %s %s: %w: %w", name, ManifestName, ErrMalformed, err)
	}
	if m.Format != Format {
		return nil, nil, fmt.Errorf("bundle %s: %w: format %q, want %q", name, ErrMalformed, m.Format, Format)
	}
	files := map[string][]byte{}
	for i, fe := range m.Files {
		b, ok := members[fe.Path]
		if !ok {
			return nil, nil, fmt.Errorf("bundle %s: %w: /files/%d %q is missing", name, ErrTampered, i, fe.Path)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != fe.SHA256 || int64(len(b)) != fe.Size {
			return nil, nil, fmt.Errorf("bundle %s: %w: %q hashes to %s (%d bytes), the manifest says %s (%d bytes)", name, ErrTampered, fe.Path, got, len(b), fe.SHA256, fe.Size)
		}
		files[fe.Path] = b
	}
	for n := range members {
		if _, ok := files[n]; !ok && n != ManifestName && n != SignatureName {
			return nil, nil, fmt.Errorf("bundle %s: %w: %q is not in the manifest", name, ErrTampered, n)
		}
	}
	for i, f := range m.Feeds {
		for _, p := range f.Files {
			if _, ok := files[p]; !ok {
				return nil, nil, fmt.Errorf("bundle %s: %w: /feeds/%d names %q, which is not in /files", name, ErrMalformed, i, p)
			}
		}
	}
	return &m, files, nil
}

// GenerateKey makes an ed25519 key pair and returns both as PEM
// (PKCS #8 private key, PKIX public key: readable by openssl).
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}), nil
}

// ParsePrivateKey reads a PEM PKCS #8 ed25519 private key.
func ParsePrivateKey(b []byte, name string) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s: not a PEM \"PRIVATE KEY\"", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s: not an ed25519 key", name)
	}
	return ek, nil
}

// ParsePublicKey reads a PEM PKIX ed25519 public key.
func ParsePublicKey(b []byte, name string) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("key %s: not a PEM \"PUBLIC KEY\"", name)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key %s: not an ed25519 key", name)
	}
	return ek, nil
}

// Fingerprint is the hex SHA-256 of a public key (to show and compare).
func Fingerprint(k ed25519.PublicKey) string {
	s := sha256.Sum256(k)
	return hex.EncodeToString(s[:])
}
