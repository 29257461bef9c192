package web

import (
	"context"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// maxDeviceSBOMRows bounds the component rows shown per SBOM on the device
// page (vulnerable components first); the API has them all.
const maxDeviceSBOMRows = 200

// deviceSBOM is the device page's "Software (SBOM)" section: the latest
// SBOM attached to the device itself and the one of its vendor, model and
// firmware version, each with its components and their vulnerabilities.
type deviceSBOM struct {
	SBOMs []deviceSBOMEntry
	Err   string
}

type deviceSBOMEntry struct {
	V    store.SBOMVersion
	Rows []store.SBOMComponent // vulnerable components first, then the rest
	More int                   // components not shown
}

// deviceSBOMs loads the section. A store failure is shown in the section
// rather than failing the whole device page.
func (h *Handler) deviceSBOMs(ctx context.Context, d *inventory.Device) deviceSBOM {
	var out deviceSBOM
	vs, err := h.st.SBOMsForDevice(ctx, d)
	if err != nil {
		h.log.Error("device sboms", "device_id", d.ID, "err", err)
		out.Err = "The SBOMs of this device could not be read; see the server log."
		return out
	}
	for _, v := range vs {
		comps, err := h.st.SBOMComponents(ctx, v.ID)
		if err != nil {
			h.log.Error("device sbom components", "device_id", d.ID, "sbom", v.ID, "err", err)
			out.Err = "The SBOMs of this device could not be read; see the server log."
			return out
		}
		e := deviceSBOMEntry{V: v}
		for _, c := range comps {
			if len(c.Vulns) > 0 {
				e.Rows = append(e.Rows, c)
			}
		}
		for _, c := range comps {
			if len(c.Vulns) == 0 {
				e.Rows = append(e.Rows, c)
			}
		}
		if len(e.Rows) > maxDeviceSBOMRows {
			e.More = len(e.Rows) - maxDeviceSBOMRows
			e.Rows = e.Rows[:maxDeviceSBOMRows]
		}
		out.SBOMs = append(out.SBOMs, e)
	}
	return out
}
