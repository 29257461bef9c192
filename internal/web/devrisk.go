package web

import (
	"context"
	"errors"
	"time"

	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/store"
)

// maxDeviceFindings are listed on the device page; the findings page has all.
const maxDeviceFindings = 50

// deviceRisk is the device page's "Findings and risk" section: the
// device's score with each factor's contribution, its device-level
// actions, and its findings with their own factors and actions.
type deviceRisk struct {
	Risk     *store.DeviceRisk
	Factors  []factorView
	Actions  []remediation.Item
	Rows     []deviceFindingRow
	More     bool
	Computed bool // a full matching run has been stored
	Err      string
}

type deviceFindingRow struct {
	F       *store.Finding
	SLA     sla
	Factors []factorView
}

func (h *Handler) deviceRisk(ctx context.Context, id int64, now time.Time) (deviceRisk, error) {
	var dr deviceRisk
	at, err := h.st.FindingsComputedAt(ctx)
	if err != nil {
		return dr, err
	}
	dr.Computed = !at.IsZero()
	r, err := h.st.GetDeviceRisk(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return dr, err
	default:
		dr.Risk, dr.Factors, dr.Actions = r, decodeFactors(r.Factors), decodeActions(r.Actions)
	}
	pg, err := h.st.ListFindings(ctx, store.FindingQuery{DeviceID: id, Sort: "-score", Limit: maxDeviceFindings})
	if err != nil {
		return dr, err
	}
	dr.More = pg.Next != ""
	dueSoon := remediation.DefaultPolicy().DueSoonDays
	for _, f := range pg.Findings {
		dr.Rows = append(dr.Rows, deviceFindingRow{F: f, SLA: slaOf(f, now, dueSoon), Factors: decodeFactors(f.Factors)})
	}
	return dr, nil
}
