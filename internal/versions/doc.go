// Package versions answers "is this version inside this advisory's affected
// range?" for every version scheme MedWarden claims, fast enough for a
// fleet re-match.
//
// # Schemes
//
// A Scheme parses and orders versions of one ecosystem. The implemented
// schemes are listed by Schemes and documented in docs/VERSIONS.md: the
// vers-spec schemes (semver, npm, golang, cargo, nuget, pypi, maven, gem,
// composer, conan, deb, rpm, apk, alpm, gentoo, openssl, nginx, datetime,
// lexicographic, generic) and two MedWarden schemes: "firmware", which
// orders the version strings of medical-device advisories and hospital
// registers ("V2.4.1 SP3" < "V2.4.2", "3.2.1-rc1" < "3.2.1", "9.0 (Build
// 123)" > "9.0"), and "all", the same ordering under the name CISA uses in
// "vers:all/…".
//
//	c, err := versions.Compare("deb", "1:1.0~rc1-1", "1:1.0-1") // c == -1
//
// # Hot loops: parse once, compare many
//
// Version is a pre-parsed version; Range is a pre-parsed range compiled to
// intervals. Range.ContainsVersion does not allocate:
//
//	r, err := versions.ParseVers("vers:npm/>=1.2.0|<1.2.9|>=2.0.0|<2.0.3")
//	v, err := versions.Parse("npm", "1.2.4")
//	affected := r.ContainsVersion(v) // true
//
// # Ranges
//
//   - ParseVers parses a vers string leniently (whitespace, unsorted
//     constraints); String returns the canonical form. ParseVersCanonical
//     insists on canonical input and ParseVersSyntax checks syntax only.
//   - FromNative converts an ecosystem's native range notation (npm, conan,
//     pypi, gem, nuget, nginx, openssl, GitLab advisories' golang, composer).
//   - ParseCSAFRange reads a CSAF product_version_range or the free text of a
//     medical advisory ("Versions 5.1 and prior", "1.0 through 2.3", "4.x",
//     "All versions >= V2.5 and < V20.8"). Text it does not understand
//     returns an error wrapping ErrNotUnderstood: treat it as "needs
//     review", never as "not affected".
//   - RangeFromIntervals builds a Range from explicit intervals.
//
// Containment follows the vers-spec algorithm: "=" and "!=" constraints are
// checked first, then the remaining constraints, in version order, form
// intervals (a leading "<", pairs ">… <…", a trailing ">").
//
// # Subpackages
//
// Package cpe parses CPE 2.3 names, matches them (NISTIR 7696) and
// evaluates NVD configurations. Package purl parses and builds Package URLs
// and maps purl types to vers schemes.
//
// Everything here is pure: no file, network or database access.
package versions
