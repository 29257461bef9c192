package versions

import "strings"

// NPM is node-semver: SemVer 2.0.0 ordering, with a tolerated "v"/"="
// prefix and missing minor/patch read as 0.
var NPM = &Scheme{name: "npm", parse: semParser(semOpts{loose: true, maxParts: 3}), compare: compareSem, canon: canonSemver}

// Golang is Go module versions (SemVer with a "v" prefix; pseudo-versions
// are pre-releases; "+incompatible" is build metadata).
var Golang = &Scheme{name: "golang", parse: parseCoerced, compare: compareSem}

// Cargo is Rust crates (SemVer 2.0.0).
var Cargo = &Scheme{name: "cargo", parse: semParser(semOpts{maxParts: 3}), compare: compareSem}

// NuGet is NuGet versions: up to four numbers, SemVer 2.0.0 pre-release
// ordering with case-insensitive labels, build metadata ignored.
var NuGet = &Scheme{name: "nuget", parse: semParser(semOpts{loose: true, maxParts: 4, fold: true}), compare: compareSem}

// Nginx is nginx release numbers (dotted numbers).
var Nginx = &Scheme{name: "nginx", parse: parseGeneric, compare: compareTok}

// All is the pseudo-scheme "all" used by CISA CSAF ("vers:all/*",
// "vers:all/<V22.01.10"): it orders versions with the firmware rules.
var All = &Scheme{name: "all", parse: parseFirmware, compare: compareTok}

// Composer is PHP Composer versions, coerced to SemVer the way univers
// does ("8.0" -> "8.0.0", "6.4.8.1" -> "6.4.8+1", "1.5.6d" -> "1.5.6-d") and
// ordered by SemVer 2.0.0 with build metadata as a last tie-break.
var Composer = &Scheme{name: "composer", parse: parseCoerced, compare: compareSemBuild}

func parseCoerced(s string) (any, error) {
	v, err := parseSemverOpts(coerceSemver(strings.TrimSpace(s)), semOpts{maxParts: 3, loose: true})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// schemeTable is the explicit list of implemented schemes, keyed by vers
// scheme name.
var schemeTable = map[string]*Scheme{
	"all":           All,
	"alpm":          ALPM,
	"apk":           APK,
	"cargo":         Cargo,
	"composer":      Composer,
	"conan":         Conan,
	"datetime":      Datetime,
	"deb":           Deb,
	"firmware":      Firmware,
	"gem":           Gem,
	"generic":       Generic,
	"gentoo":        Gentoo,
	"golang":        Golang,
	"intdot":        Intdot,
	"lexicographic": Lexicographic,
	"maven":         Maven,
	"nginx":         Nginx,
	"npm":           NPM,
	"nuget":         NuGet,
	"openssl":       OpenSSL,
	"pypi":          PyPI,
	"rpm":           RPM,
	"semver":        SemVer,
}
