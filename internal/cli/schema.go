package cli

import "github.com/medwarden/medwarden/internal/store"

func schemaVersion() int { return store.SchemaVersion() }
