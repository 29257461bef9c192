// Package buildinfo holds the version and commit stamped in at link time:
//
//	go build -ldflags "-X github.com/medwarden/medwarden/internal/buildinfo.Version=v0.1.0 -X github.com/medwarden/medwarden/internal/buildinfo.Commit=$(git rev-parse HEAD)"
package buildinfo

import "runtime/debug"

// Version and Commit are overwritten by -ldflags -X at release time.
var (
	Version = "dev"
	Commit  = ""
)

// CommitOrVCS returns Commit, or the VCS revision Go embedded, or "unknown".
func CommitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
