// Package purl parses and builds Package URLs (purl-spec) and maps a purl
// type to the vers scheme that orders its versions. Parsing and
// canonicalisation are done by github.com/package-url/packageurl-go; this
// package adds the vers mapping and errors that name the input.
package purl

import (
	"errors"
	"fmt"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// ErrInvalid is wrapped by every parse or build error.
var ErrInvalid = errors.New("invalid package url")

// PURL is a parsed Package URL.
type PURL = packageurl.PackageURL

// Parse parses a purl string ("pkg:npm/%40angular/animation@12.3.1").
// Qualifier keys are case-insensitive and returned in lower case. For the "git" type the namespace is
// the host and the name the repository path ("codeberg.org",
// "forgejo/forgejo"), both case-insensitive.
func Parse(s string) (PURL, error) {
	p, err := parse(s)
	if err != nil {
		return PURL{}, err
	}
	if p.Type == "git" {
		full := strings.Trim(p.Namespace+"/"+p.Name, "/")
		host, rest, _ := strings.Cut(full, "/")
		p.Namespace, p.Name = host, rest
	}
	return p, nil
}

func parse(s string) (PURL, error) {
	p, err := packageurl.FromString(s)
	if err != nil {
		return PURL{}, fmt.Errorf("purl %q: %v: %w", s, err, ErrInvalid)
	}
	if p.Type == "git" {
		p.Namespace = strings.ToLower(p.Namespace)
		p.Name = strings.ToLower(p.Name)
	}
	return p, nil
}

// Build assembles and validates a purl from its parts and returns its
// canonical string.
func Build(typ, namespace, name, version string, qualifiers map[string]string, subpath string) (string, error) {
	p := packageurl.NewPackageURL(typ, namespace, name, version, packageurl.QualifiersFromMap(qualifiers), subpath)
	if err := p.Normalize(); err != nil {
		return "", fmt.Errorf("purl type %q name %q: %v: %w", typ, name, err, ErrInvalid)
	}
	s := p.ToString()
	// Round-trip to apply the same validation as Parse.
	if _, err := packageurl.FromString(s); err != nil {
		return "", fmt.Errorf("purl %q: %v: %w", s, err, ErrInvalid)
	}
	return s, nil
}

// Canonical parses s and returns its canonical form.
func Canonical(s string) (string, error) {
	p, err := parse(s)
	if err != nil {
		return "", err
	}
	return p.ToString(), nil
}

// schemeByType maps purl types to vers schemes (see docs/VERSIONS.md).
var schemeByType = map[string]string{
	"alpm": "alpm", "apk": "apk", "cargo": "cargo", "composer": "composer",
	"conan": "conan", "deb": "deb", "gem": "gem", "generic": "generic",
	"golang": "golang", "maven": "maven", "npm": "npm", "nuget": "nuget",
	"pypi": "pypi", "rpm": "rpm",
}

// VersScheme returns the vers scheme for a purl type and whether one is
// known. Unknown types should be matched with the "generic" scheme only
// after review.
func VersScheme(purlType string) (string, bool) {
	s, ok := schemeByType[purlType]
	return s, ok
}
