package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// The device page's "Network peers and protocols" section: the stored
// communication edges of the device (what passive sensors saw it talk to),
// summed over their interval buckets per peer, protocol, port and
// application, busiest first.

// Bounds of the section: the newest maxPeerEdges edge rows are read and at
// most maxPeerRows peers shown.
const (
	maxPeerEdges = 1000
	maxPeerRows  = 100
)

type peerRow struct {
	Outgoing  bool   // this device opened the conversations (client)
	PeerID    int64  // inventory id of the peer; 0 when not a known device
	PeerName  string // asset id, host name or address
	PeerAddr  string
	Proto     string
	Port      int
	App       string
	Packets   int64
	Bytes     string
	FirstSeen time.Time
	LastSeen  time.Time
	bytes     int64
}

type devicePeers struct {
	Rows      []peerRow
	More      int       // peers beyond the rows shown
	Sensors   []string  // sensors that reported this device's traffic
	Truncated bool      // more edge rows than were read
	FirstSeen time.Time // of the device, by any sensor; zero when never seen
	LastSeen  time.Time
	Observed  int // observed values recorded on the device
	Err       string
}

func (h *Handler) devicePeers(ctx context.Context, d *inventory.Device) devicePeers {
	out := devicePeers{Observed: len(d.Observed)}
	if d.FirstSeen != nil && d.LastSeen != nil {
		out.FirstSeen, out.LastSeen = *d.FirstSeen, *d.LastSeen
	}
	page, err := h.st.ListEdges(ctx, store.EdgeQuery{Device: d.ID, Limit: maxPeerEdges})
	if err != nil {
		h.log.Error("device peers", "device_id", d.ID, "err", err)
		out.Err = "The traffic of this device could not be read; see the server log."
		return out
	}
	out.Truncated = page.Next != ""
	type key struct {
		out              bool
		peerID           int64
		peer, proto, app string
		port             int
	}
	agg := map[key]*peerRow{}
	sensors := map[string]bool{}
	for _, e := range page.Edges {
		k := key{out: e.SrcDevice == d.ID, proto: e.Proto, app: e.App, port: e.Port}
		if k.out {
			k.peerID, k.peer = e.DstDevice, cmp.Or(e.DstIP, e.DstMAC, "*")
		} else {
			k.peerID, k.peer = e.SrcDevice, cmp.Or(e.SrcIP, e.SrcMAC, "*")
		}
		if k.peerID != 0 {
			k.peer = ""
		}
		r := agg[k]
		if r == nil {
			r = &peerRow{Outgoing: k.out, PeerID: k.peerID, PeerAddr: k.peer, Proto: e.Proto, Port: e.Port, App: e.App, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen}
			if k.peerID == 0 {
				r.PeerName = k.peer
			}
			agg[k] = r
		}
		r.Packets += e.Packets
		r.bytes += e.Bytes
		if e.FirstSeen.Before(r.FirstSeen) {
			r.FirstSeen = e.FirstSeen
		}
		if e.LastSeen.After(r.LastSeen) {
			r.LastSeen = e.LastSeen
		}
		sensors[e.Sensor] = true
	}
	for _, r := range agg {
		out.Rows = append(out.Rows, *r)
	}
	slices.SortFunc(out.Rows, func(a, b peerRow) int {
		return cmp.Or(cmp.Compare(b.bytes, a.bytes), cmp.Compare(a.PeerName, b.PeerName), cmp.Compare(a.Port, b.Port))
	})
	if len(out.Rows) > maxPeerRows {
		out.More = len(out.Rows) - maxPeerRows
		out.Rows = out.Rows[:maxPeerRows]
	}
	names := map[int64]string{}
	for i := range out.Rows {
		r := &out.Rows[i]
		r.Bytes = humanBytes(r.bytes)
		if r.PeerID == 0 {
			continue
		}
		if n, ok := names[r.PeerID]; ok {
			r.PeerName = n
			continue
		}
		name := fmt.Sprintf("device %d", r.PeerID)
		if p, err := h.st.GetDevice(ctx, r.PeerID); err == nil {
			name = cmp.Or(p.AssetID, p.Hostname, p.Get("ip"), name)
			if p.AssetID == "" {
				if o, ok := p.Observed["hostname"]; ok {
					name = o.Value + " (unregistered)"
				} else {
					name += " (unregistered)"
				}
			}
		}
		names[r.PeerID] = name
		r.PeerName = name
	}
	for s := range sensors {
		out.Sensors = append(out.Sensors, s)
	}
	slices.Sort(out.Sensors)
	return out
}
