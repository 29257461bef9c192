package simulate

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"
)

func (s *sim) schedule() error {
	start, dur := s.cfg.Start, time.Duration(s.cfg.Minutes)*time.Minute
	end := start.Add(dur)
	every := func(first time.Time, period time.Duration, fn func(time.Time)) {
		for t := first; t.Before(end); t = t.Add(period + s.jitter(period/5) - period/10) {
			s.at(t, fn)
		}
	}
	ehrConn := map[string]*conn{}
	var devices []*Host
	for _, h := range s.hosts {
		if h.kind != "" {
			devices = append(devices, h)
		}
	}
	// DHCP and NTP at boot, staggered over the first 20 seconds.
	for _, h := range devices {
		h := h
		s.at(start.Add(s.jitter(20*time.Second)), func(t time.Time) { s.dhcpExchange(t, h) })
		every(start.Add(20*time.Second+s.jitter(time.Minute)), 5*time.Minute, func(t time.Time) { s.ntpExchange(t, h) })
	}
	// EHR → interface engine: ADT and ORM on one persistent MLLP link.
	ctl := 0
	every(start.Add(25*time.Second), 30*time.Second, func(t time.Time) {
		c := ehrConn["ehr"]
		if c == nil {
			c = s.w.dial(t, s.ehr, s.ie, s.ephemeral(), 6661, s.rng.Uint32())
			ehrConn["ehr"] = c
			s.edge(s.ehr, s.ie, 6661, "hl7")
		}
		c.t = t
		ctl++
		id := fmt.Sprintf("EHR%06d", ctl)
		pt := s.patient()
		msg, trig := hl7ADT(t, id, pt, "ICU", fmt.Sprintf("BED%02d", 1+s.rng.IntN(12))), "A01"
		if ctl%3 == 0 {
			msg, trig = hl7ORM(t, id, pt), "O01"
		}
		c.send(true, mllp(msg))
		c.send(false, mllp(hl7ACK(c.t, "MW_IE", "EPIC", "HOSPITAL", id, trig, "2.5.1")))
	})
	s.expect(s.ehr, "hl7.message_type", "ADT^A01")
	for _, h := range devices {
		h := h
		first := start.Add(30*time.Second + s.jitter(30*time.Second))
		switch h.kind {
		case "monitor":
			var c *conn
			n := 0
			every(first, 10*time.Second, func(t time.Time) {
				if c == nil {
					c = s.w.dial(t, h, s.ie, s.ephemeral(), 2575, s.rng.Uint32())
					s.edge(h, s.ie, 2575, "hl7")
				}
				c.t = t
				n++
				id := fmt.Sprintf("%s%08d", h.Serial[:2], n)
				c.send(true, mllp(hl7ORU(t, h, id, s.patient(), 93+s.rng.IntN(7), 55+s.rng.IntN(50))))
				c.send(false, mllp(hl7ACK(c.t, "MW_IE", h.App, h.Facility, id, "R01", "2.6")))
			})
		case "ct", "mr", "us":
			images := map[string]int{"ct": 8, "mr": 6, "us": 2}[h.kind]
			sop := catalogFor(h.kind).sop
			every(first, 90*time.Second, func(t time.Time) { s.dicomStore(t, h, s.pacs, sop, images) })
		case "poct":
			every(first, 3*time.Minute, func(t time.Time) { s.poct(t, h) })
		case "astm":
			every(first, 2*time.Minute, func(t time.Time) { s.astm(t, h) })
		case "ws":
			every(first, time.Minute, func(t time.Time) { s.dnsLookup(t, h, s.web.Hostname, s.web) })
			every(first.Add(2*time.Second), 2*time.Minute, func(t time.Time) { s.tlsSession(t, h, s.web, s.web.Hostname, 443, s.cfg.TLSBytes) })
			every(first.Add(5*time.Second), 2*time.Minute, func(t time.Time) { s.http(t, h, s.web) })
			every(first.Add(9*time.Second), 3*time.Minute, func(t time.Time) { s.smb(t, h, s.files) })
		}
	}
	if n := s.cfg.LargeStudies; n > 0 {
		// A few large flows: full-resolution CT and MR series.
		for _, h := range devices {
			if h.kind == "ct" || h.kind == "mr" {
				h, sop := h, catalogFor(h.kind).sop
				every(start.Add(time.Minute+s.jitter(time.Minute)), 10*time.Minute, func(t time.Time) { s.dicomStudy(t, h, s.pacs, sop, n, 512) })
			}
		}
	}
	return s.attacks(devices, start, dur)
}

func catalogFor(kind string) model {
	for _, m := range catalog {
		if m.kind == kind {
			return m
		}
	}
	return model{}
}

var broadcast = &Host{mac: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, addr: netip.AddrFrom4([4]byte{255, 255, 255, 255})}

func (s *sim) dhcpExchange(t time.Time, h *Host) {
	xid := s.rng.Uint32()
	zero := &Host{mac: h.mac, addr: netip.IPv4Unspecified()}
	vendor := "MSFT 5.0"
	if h.kind != "ws" {
		vendor = h.Vendor + " " + h.Model
	}
	yi, srv := h.addr.As4(), s.router.addr.As4()
	step := func() time.Time { t = t.Add(3 * time.Millisecond); return t }
	s.w.udp(step(), zero, broadcast, 68, 67, dhcp(1, 1, xid, h.mac, [4]byte{}, srv, h.Hostname, vendor))
	s.w.udp(step(), s.router, broadcast, 67, 68, dhcp(2, 2, xid, h.mac, yi, srv, "", ""))
	s.w.udp(step(), zero, broadcast, 68, 67, dhcp(1, 3, xid, h.mac, yi, srv, h.Hostname, vendor))
	s.w.udp(step(), s.router, broadcast, 67, 68, dhcp(2, 5, xid, h.mac, yi, srv, "", ""))
}

func (s *sim) ntpExchange(t time.Time, h *Host) {
	p := s.ephemeral()
	s.w.udp(t, h, s.router, p, 123, ntp(3, t))
	s.w.udp(t.Add(400*time.Microsecond), s.router, h, 123, p, ntp(4, t))
}

func (s *sim) dnsLookup(t time.Time, h *Host, name string, target *Host) {
	id, p := uint16(s.rng.Uint32()), s.ephemeral()
	s.w.udp(t, h, s.router, p, 53, dnsQuery(id, name))
	s.w.udp(t.Add(800*time.Microsecond), s.router, h, 53, p, dnsAnswer(id, name, target.addr.As4()))
}

func (s *sim) dicomStore(t time.Time, mod, pacs *Host, sop string, images int) {
	s.dicomStudy(t, mod, pacs, sop, images, 256)
}

// dicomStudy is one association storing images of size×size 16-bit pixels.
func (s *sim) dicomStudy(t time.Time, mod, pacs *Host, sop string, images, size int) {
	c := s.w.dial(t, mod, pacs, s.ephemeral(), 104, s.rng.Uint32())
	s.edge(mod, pacs, 104, "dicom")
	m := catalogFor(mod.kind)
	c.send(true, associateRQ(pacs.AE, mod.AE, []string{sop, uidVerify}, m.app, m.software))
	c.send(false, associateAC(pacs.AE, mod.AE, 2, "1.2.40.0.13.1.3", "dcm4che-5.31.0"))
	c.send(true, pdata(3, true, cEchoRQ(1000)))
	c.send(false, pdata(3, true, cEchoRSP(1000)))
	pt := s.patient()
	study := fmt.Sprintf("1.2.826.0.1.3680043.10.543.%d.%d", mod.addr.As4()[3], c.t.Unix())
	for i := 0; i < images; i++ {
		inst := fmt.Sprintf("%s.%d", study, i+1)
		id := uint16(i + 1)
		c.send(true, pdata(1, true, cStoreRQ(sop, inst, id)))
		px := s.pixels(size, size, byte(i))
		c.send(true, pdataParts(1, false, dataset(sop, inst, mod.Modality, pt, size, size, px), px))
		c.send(false, pdata(1, true, cStoreRSP(sop, inst, id, 0)))
	}
	c.send(true, pdu(0x05, make([]byte, 4)))
	c.send(false, pdu(0x06, make([]byte, 4)))
	c.close()
}

func (s *sim) poct(t time.Time, h *Host) {
	c := s.w.dial(t, h, s.poctDM, s.ephemeral(), 5500, s.rng.Uint32())
	s.edge(h, s.poctDM, 5500, "poct1")
	ctl := int(s.rng.Uint32() % 100000)
	c.send(true, []byte(poctHello(c.t, h, ctl)))
	c.send(false, []byte(poctAck(c.t, ctl+50000, ctl)))
	c.send(true, []byte(poctStatus(c.t, ctl+1, s.rng.IntN(5))))
	c.send(false, []byte(poctAck(c.t, ctl+50001, ctl+1)))
	c.close()
}

func (s *sim) astm(t time.Time, h *Host) {
	c := s.w.dial(t, h, s.lis, s.ephemeral(), 5000, s.rng.Uint32())
	s.edge(h, s.lis, 5000, "astm")
	c.send(true, []byte{0x05})
	c.send(false, []byte{0x06})
	for i, r := range astmRecords(c.t, h, s.patient(), 3.5+float64(s.rng.IntN(80))/10) {
		c.send(true, astmFrame(i+1, r))
		c.send(false, []byte{0x06})
	}
	c.send(true, []byte{0x04})
	c.close()
}

func (s *sim) tlsSession(t time.Time, cli, srv *Host, sni string, port uint16, appBytes int) {
	c := s.w.dial(t, cli, srv, s.ephemeral(), port, s.rng.Uint32())
	s.edge(cli, srv, port, "tls")
	rnd := make([]byte, 64)
	for i := range rnd {
		rnd[i] = byte(s.rng.Uint32())
	}
	c.send(true, clientHello(rnd, sni))
	cert, ok := s.certs[sni]
	if !ok {
		seed := make([]byte, 32)
		copy(seed, sni)
		var err error
		if cert, err = certificate(sni, seed, s.cfg.Start); err != nil {
			cert = nil
		}
		s.certs[sni] = cert
	}
	if cert != nil {
		c.send(false, serverFlight(append(append([]byte(nil), rnd[32:]...), rnd[:32]...), cert))
	}
	// Encrypted application data (opaque records; every record of a
	// session has the same bytes, so they are built once).
	var pattern []byte
	if appBytes > 0 {
		pattern = make([]byte, min(appBytes, 16384))
		for i := range pattern {
			pattern[i] = byte(i*131) ^ rnd[i%64]
		}
	}
	for appBytes > 0 {
		n := min(appBytes, 16384)
		c.send(true, tlsRecord(23, pattern[:n]))
		appBytes -= n
	}
	c.close()
	s.expect(cli, "tls.sni", sni)
}

func (s *sim) http(t time.Time, cli, srv *Host) {
	c := s.w.dial(t, cli, srv, s.ephemeral(), 80, s.rng.Uint32())
	s.edge(cli, srv, 80, "http")
	c.send(true, httpGet(srv.Hostname, "/portal/index.html", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"))
	c.send(false, httpOK("Microsoft-IIS/10.0", bytes.Repeat([]byte("<p>ward rota</p>\n"), 200)))
	c.close()
}

func (s *sim) smb(t time.Time, cli, srv *Host) {
	c := s.w.dial(t, cli, srv, s.ephemeral(), 445, s.rng.Uint32())
	s.edge(cli, srv, 445, "smb")
	guid := make([]byte, 16)
	copy(guid, cli.MAC)
	c.send(true, smb2Negotiate(guid))
	c.close()
}

func (s *sim) attacks(devices []*Host, start time.Time, dur time.Duration) error {
	byKind := func(k string, n int) *Host {
		for _, h := range devices {
			if h.kind == k {
				if n == 0 {
					return h
				}
				n--
			}
		}
		return nil
	}
	for _, a := range s.cfg.Attacks {
		at := start.Add(dur * time.Duration(30+10*len(s.truth.Attacks)) / 100)
		rec := Attack{Kind: a, Start: at}
		switch a {
		case AttackPortScan:
			src := byKind("ws", 0)
			if src == nil {
				return fmt.Errorf("attacks: %s needs a workstation (raise devices): %w", a, ErrConfig)
			}
			rec.Source, rec.Targets = src.IP, []string{s.pacs.IP}
			rec.Description = fmt.Sprintf("%s SYN-scans TCP ports 1-1024 of the PACS", src.Name)
			s.at(at, func(t time.Time) { s.portScan(t, src, s.pacs) })
			rec.End = at.Add(1024 * 3 * 137 * time.Microsecond)
		case AttackSMBLateral:
			src := byKind("ws", 0)
			if src == nil {
				return fmt.Errorf("attacks: %s needs a workstation: %w", a, ErrConfig)
			}
			rec.Source = src.IP
			var targets []*Host
			for _, h := range devices {
				if h != src && (h.kind == "ws" || h.kind == "ct" || h.kind == "mr" || h.kind == "us") {
					targets = append(targets, h)
					rec.Targets = append(rec.Targets, h.IP)
				}
			}
			rec.Description = fmt.Sprintf("%s opens SMB sessions to %d workstations and modalities it never talked to", src.Name, len(targets))
			s.at(at, func(t time.Time) {
				for i, h := range targets {
					s.smb(t.Add(time.Duration(i)*20*time.Millisecond), src, h)
				}
			})
			rec.End = at.Add(time.Duration(len(targets)) * 20 * time.Millisecond)
		case AttackDICOMUnknown:
			src := byKind("ct", 0)
			if src == nil {
				return fmt.Errorf("attacks: %s needs a CT (raise devices): %w", a, ErrConfig)
			}
			rogue := s.newHost("unknown-dicom-peer", "", "", "unknown", "02:00:00", netip.AddrFrom4([4]byte{10, 10, 9, 99}))
			rogue.AE = "STORESCP"
			rec.Source, rec.Targets = src.IP, []string{rogue.IP}
			rec.Description = fmt.Sprintf("%s sends images to an unknown DICOM node (AE %s)", src.Name, rogue.AE)
			s.at(at, func(t time.Time) { s.dicomStore(t, src, rogue, catalogFor("ct").sop, 3) })
			rec.End = at.Add(time.Second)
		case AttackExfiltration:
			src := byKind("ws", 1)
			if src == nil {
				src = byKind("ws", 0)
			}
			if src == nil {
				return fmt.Errorf("attacks: %s needs a workstation: %w", a, ErrConfig)
			}
			dst := s.newHost("exfil-server", "", "", "internet-service", "00:00:0c", netip.AddrFrom4([4]byte{198, 51, 100, 77}))
			dst.External, dst.mac, dst.MAC, dst.Hostname = true, s.router.mac, s.router.MAC, "files.exfil.example"
			rec.Source, rec.Targets = src.IP, []string{dst.IP}
			rec.Description = fmt.Sprintf("%s uploads 20 MB over TLS to %s on the internet", src.Name, dst.Hostname)
			s.at(at, func(t time.Time) { s.tlsSession(t, src, dst, dst.Hostname, 443, 20<<20) })
			rec.End = at.Add(2 * time.Second)
		case AttackInternet:
			src := byKind("monitor", 0)
			if src == nil {
				return fmt.Errorf("attacks: %s needs a monitor: %w", a, ErrConfig)
			}
			rec.Source, rec.Targets = src.IP, []string{s.cloud.IP}
			rec.Description = fmt.Sprintf("%s opens a TLS connection to %s on the internet", src.Name, s.cloud.Hostname)
			s.at(at, func(t time.Time) { s.tlsSession(t, src, s.cloud, s.cloud.Hostname, 443, 4096) })
			rec.End = at.Add(time.Second)
		case AttackNewProtocol:
			src := byKind("monitor", 0)
			dst := byKind("ws", 0)
			if src == nil || dst == nil {
				return fmt.Errorf("attacks: %s needs a monitor and a workstation: %w", a, ErrConfig)
			}
			rec.Source, rec.Targets = src.IP, []string{dst.IP}
			rec.Description = fmt.Sprintf("%s, which only ever spoke HL7, opens an SSH session to %s", src.Name, dst.Name)
			s.at(at, func(t time.Time) {
				c := s.w.dial(t, src, dst, s.ephemeral(), 22, s.rng.Uint32())
				c.send(false, []byte("SSH-2.0-OpenSSH_for_Windows_9.5\r\n"))
				c.send(true, []byte("SSH-2.0-dropbear_2022.83\r\n"))
				c.close()
			})
			rec.End = at.Add(time.Second)
		}
		s.truth.Attacks = append(s.truth.Attacks, rec)
	}
	return nil
}

// portScan: SYN to each port; closed ports answer RST/ACK, open ones
// SYN/ACK and the scanner resets.
func (s *sim) portScan(t time.Time, src, dst *Host) {
	open := map[uint16]bool{104: true, 80: true, 443: true, 22: true}
	sp := s.ephemeral()
	for p := uint16(1); p <= 1024; p++ {
		a, b := netip.AddrPortFrom(src.addr, sp), netip.AddrPortFrom(dst.addr, p)
		seq := s.rng.Uint32()
		t = t.Add(137 * time.Microsecond)
		s.w.ipPacket(t, src.mac, dst.mac, a, b, 6, seq, 0, syn, nil)
		t = t.Add(137 * time.Microsecond)
		if open[p] {
			s.w.ipPacket(t, dst.mac, src.mac, b, a, 6, seq*3, seq+1, syn|ack, nil)
			t = t.Add(137 * time.Microsecond)
			s.w.ipPacket(t, src.mac, dst.mac, a, b, 6, seq+1, 0, rst, nil)
		} else {
			s.w.ipPacket(t, dst.mac, src.mac, b, a, 6, 0, seq+1, rst|ack, nil)
		}
	}
}
