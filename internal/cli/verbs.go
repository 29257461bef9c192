package cli

import "os"

// verbs is the explicit list of CLI commands. Add a verb by writing its file
// (one file per verb, e.g. cvss.go with func cvssVerb() *Verb) and one line here.
func verbs() []*Verb {
	return []*Verb{
		versionVerb(),
		scanVerb(), sensorVerb(),
		cvssVerb(),
		rubricVerb(),
		importVerb(),
		exportVerb(),
		serveVerb(),
		demoVerb(),
		userVerb(),
		feedsVerb(),
		matchVerb(),
		simulateVerb(),
		riskVerb(),
		findingsVerb(),
		sbomVerb(),
		tokenVerb(),
		sensorsVerb(), sensorEnrolVerb(),
		auditVerb(),
		backupVerb(), restoreVerb(),
	}
}

func osGetenv(k string) string { return os.Getenv(k) }
