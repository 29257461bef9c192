package ingest_test

import (
	"io"

	"github.com/medwarden/medwarden/internal/ingest/batch"
)

func batchDecode(r io.Reader) (*batch.Batch, error) { return batch.Decode(r, "test") }
