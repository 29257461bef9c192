package simulate

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// ---- HL7 v2 over MLLP (HL7 v2.6 ch. 2, IHE PCD-01) ----

func mllp(msg string) []byte {
	b := make([]byte, 0, len(msg)+3)
	b = append(b, 0x0b)
	b = append(b, msg...)
	return append(b, 0x1c, 0x0d)
}

func hl7Time(t time.Time) string { return t.UTC().Format("20060102150405") + "+0000" }

func hl7ORU(t time.Time, d *Host, ctl string, pt patient, spo2, hr int) string {
	ts := hl7Time(t)
	return "MSH|^~\\&|" + d.App + "^" + d.EUI64 + "^EUI-64|" + d.Facility + "|MW_IE|HOSPITAL|" + ts + "||ORU^R01^ORU_R01|" + ctl + "|P|2.6|||NE|AL||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r" +
		"PID|||" + pt.mrn + "^^^HOSPITAL^MR||" + pt.last + "^" + pt.first + "^^^^^L||" + pt.dob + "|" + pt.sex + "\r" +
		"PV1||I|" + d.Unit + "^^" + d.Bed + "\r" +
		"OBR|1|" + ctl + "^" + d.App + "^" + d.EUI64 + "^EUI-64|" + ctl + "^" + d.App + "^" + d.EUI64 + "^EUI-64|182777000^monitoring of patient^SCT|||" + ts + "\r" +
		fmt.Sprintf("OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|%d|262688^MDC_DIM_PERCENT^MDC|||||R|||%s||||%s^EUI-64\r", spo2, ts, d.EUI64) +
		fmt.Sprintf("OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.2|%d|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||%s||||%s^EUI-64\r", hr, ts, d.EUI64)
}

func hl7ACK(t time.Time, from, toApp, toFac, ctl, trigger, version string) string {
	return "MSH|^~\\&|" + from + "|HOSPITAL|" + toApp + "|" + toFac + "|" + hl7Time(t) + "||ACK^" + trigger + "^ACK|A" + ctl + "|P|" + version + "\rMSA|AA|" + ctl + "\r"
}

func hl7ADT(t time.Time, ctl string, pt patient, unit, bed string) string {
	ts := hl7Time(t)
	return "MSH|^~\\&|EPIC^ADT|HOSPITAL|MW_IE|HOSPITAL|" + ts + "||ADT^A01^ADT_A01|" + ctl + "|P|2.5.1|||AL|NE||8859/1\r" +
		"EVN|A01|" + ts + "\r" +
		"PID|1||" + pt.mrn + "^^^HOSPITAL^MR||" + pt.last + "^" + pt.first + "^^^^^L||" + pt.dob + "|" + pt.sex + "\r" +
		"PV1|1|I|" + unit + "^^" + bed + "|E|||1234^WELBY^MARCUS^^^DR\r"
}

func hl7ORM(t time.Time, ctl string, pt patient) string {
	ts := hl7Time(t)
	return "MSH|^~\\&|EPIC^ORDERS|HOSPITAL|MW_IE|HOSPITAL|" + ts + "||ORM^O01^ORM_O01|" + ctl + "|P|2.5.1\r" +
		"PID|1||" + pt.mrn + "^^^HOSPITAL^MR||" + pt.last + "^" + pt.first + "\r" +
		"ORC|NW|" + ctl + "^EPIC\r" +
		"OBR|1|" + ctl + "^EPIC||24627-2^CT CHEST^LN|||" + ts + "\r"
}

// ---- DICOM upper layer (PS3.8 9.3) and DIMSE (PS3.7 9.3, E) ----

func pdu(typ byte, body []byte) []byte {
	b := make([]byte, 0, 6+len(body))
	b = append(b, typ, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func item(typ byte, v []byte) []byte {
	b := []byte{typ, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func aeTitle(s string) []byte { return []byte((s + strings.Repeat(" ", 16))[:16]) }

func uidBytes(s string) []byte {
	if len(s)%2 == 1 {
		return append([]byte(s), 0)
	}
	return []byte(s)
}

const (
	uidAppContext = "1.2.840.10008.3.1.1.1"
	uidImplicitLE = "1.2.840.10008.1.2"
	uidExplicitLE = "1.2.840.10008.1.2.1"
	uidVerify     = "1.2.840.10008.1.1"
	maxPDU        = 16384
)

// associateRQ proposes one presentation context per abstract syntax
// (ids 1, 3, 5…) with implicit and explicit VR little endian.
func associateRQ(called, calling string, abstract []string, implUID, implVer string) []byte {
	b := []byte{0, 1, 0, 0}
	b = append(b, aeTitle(called)...)
	b = append(b, aeTitle(calling)...)
	b = append(b, make([]byte, 32)...)
	b = append(b, item(0x10, []byte(uidAppContext))...)
	for i, a := range abstract {
		v := []byte{byte(2*i + 1), 0, 0, 0}
		v = append(v, item(0x30, []byte(a))...)
		v = append(v, item(0x40, []byte(uidImplicitLE))...)
		v = append(v, item(0x40, []byte(uidExplicitLE))...)
		b = append(b, item(0x20, v)...)
	}
	return pdu(0x01, append(b, userInfo(implUID, implVer)...))
}

func userInfo(implUID, implVer string) []byte {
	ui := item(0x51, binary.BigEndian.AppendUint32(nil, maxPDU))
	ui = append(ui, item(0x52, []byte(implUID))...)
	ui = append(ui, item(0x55, []byte(implVer))...)
	return item(0x50, ui)
}

func associateAC(called, calling string, n int, implUID, implVer string) []byte {
	b := []byte{0, 1, 0, 0}
	b = append(b, aeTitle(called)...)
	b = append(b, aeTitle(calling)...)
	b = append(b, make([]byte, 32)...)
	b = append(b, item(0x10, []byte(uidAppContext))...)
	for i := 0; i < n; i++ {
		v := []byte{byte(2*i + 1), 0, 0, 0}
		v = append(v, item(0x40, []byte(uidImplicitLE))...)
		b = append(b, item(0x21, v)...)
	}
	return pdu(0x02, append(b, userInfo(implUID, implVer)...))
}

// element appends an implicit VR little endian element.
func element(b []byte, group, elem uint16, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func text(s string) []byte {
	if len(s)%2 == 1 {
		return []byte(s + " ")
	}
	return []byte(s)
}

// command builds a command set with its group length (0000,0000).
func command(elems func(b []byte) []byte) []byte {
	body := elems(nil)
	return append(element(nil, 0, 0, binary.LittleEndian.AppendUint32(nil, uint32(len(body)))), body...)
}

func cStoreRQ(sop, inst string, id uint16) []byte {
	return command(func(b []byte) []byte {
		b = element(b, 0, 0x0002, uidBytes(sop))
		b = element(b, 0, 0x0100, us(0x0001))
		b = element(b, 0, 0x0110, us(id))
		b = element(b, 0, 0x0700, us(0))
		b = element(b, 0, 0x0800, us(0x0000))
		return element(b, 0, 0x1000, uidBytes(inst))
	})
}

func cStoreRSP(sop, inst string, id, status uint16) []byte {
	return command(func(b []byte) []byte {
		b = element(b, 0, 0x0002, uidBytes(sop))
		b = element(b, 0, 0x0100, us(0x8001))
		b = element(b, 0, 0x0120, us(id))
		b = element(b, 0, 0x0800, us(0x0101))
		b = element(b, 0, 0x0900, us(status))
		return element(b, 0, 0x1000, uidBytes(inst))
	})
}

func cEchoRQ(id uint16) []byte {
	return command(func(b []byte) []byte {
		b = element(b, 0, 0x0002, uidBytes(uidVerify))
		b = element(b, 0, 0x0100, us(0x0030))
		b = element(b, 0, 0x0110, us(id))
		return element(b, 0, 0x0800, us(0x0101))
	})
}

func cEchoRSP(id uint16) []byte {
	return command(func(b []byte) []byte {
		b = element(b, 0, 0x0002, uidBytes(uidVerify))
		b = element(b, 0, 0x0100, us(0x8030))
		b = element(b, 0, 0x0120, us(id))
		b = element(b, 0, 0x0800, us(0x0101))
		return element(b, 0, 0x0900, us(0))
	})
}

// dataset is a small, valid implicit VR little endian image: the
// identifying attributes and rows×cols 16-bit pixels. It returns the
// encoding up to the pixel data value; px follows it.
func dataset(sop, inst, modality string, pt patient, rows, cols int, px []byte) []byte {
	var b []byte
	b = element(b, 0x0008, 0x0016, uidBytes(sop))
	b = element(b, 0x0008, 0x0018, uidBytes(inst))
	b = element(b, 0x0008, 0x0060, text(modality))
	b = element(b, 0x0010, 0x0010, text(pt.last+"^"+pt.first))
	b = element(b, 0x0010, 0x0020, text(pt.mrn))
	b = element(b, 0x0020, 0x000D, uidBytes(inst[:strings.LastIndexByte(inst, '.')]+".1"))
	b = element(b, 0x0028, 0x0002, us(1))
	b = element(b, 0x0028, 0x0010, us(uint16(rows)))
	b = element(b, 0x0028, 0x0011, us(uint16(cols)))
	b = element(b, 0x0028, 0x0100, us(16))
	b = element(b, 0x0028, 0x0101, us(12))
	b = element(b, 0x0028, 0x0102, us(11))
	b = element(b, 0x0028, 0x0103, us(0))
	b = element(b, 0x7FE0, 0x0010, nil)
	binary.LittleEndian.PutUint32(b[len(b)-4:], uint32(len(px)))
	return b
}

// pixels returns a pixel buffer shared within one simulation (never
// modified once made).
func (s *sim) pixels(rows, cols int, fill byte) []byte {
	k := [3]int{rows, cols, int(fill % 8)}
	if px, ok := s.pixelCache[k]; ok {
		return px
	}
	px := make([]byte, rows*cols*2)
	for i := range px {
		px[i] = fill%8 + byte(i>>9)
	}
	s.pixelCache[k] = px
	return px
}

// pdata splits a command or data set into P-DATA-TF PDUs of at most
// maxPDU bytes, one PDV each.
func pdata(ctx byte, isCommand bool, data []byte) []byte {
	return pdataParts(ctx, isCommand, data, nil)
}

// pdataParts is pdata over the concatenation of head and tail, without
// building it.
func pdataParts(ctx byte, isCommand bool, head, tail []byte) []byte {
	const room = maxPDU - 6
	total := len(head) + len(tail)
	out := make([]byte, 0, total+12*(total/room+1))
	for {
		n := min(len(head)+len(tail), room)
		mch := byte(0)
		if isCommand {
			mch |= 1
		}
		if n == len(head)+len(tail) {
			mch |= 2
		}
		out = append(out, 0x04, 0)
		out = binary.BigEndian.AppendUint32(out, uint32(n+6))
		out = binary.BigEndian.AppendUint32(out, uint32(n+2))
		out = append(out, ctx, mch)
		h := min(n, len(head))
		out = append(out, head[:h]...)
		out = append(out, tail[:n-h]...)
		head, tail = head[h:], tail[n-h:]
		if len(head)+len(tail) == 0 {
			return out
		}
	}
}

// ---- POCT1-A (CLSI POCT1-A2 device messaging) ----

func poctHello(t time.Time, d *Host, ctl int) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<HEL.R01><HDR><HDR.message_type V="HEL.R01"/><HDR.control_id V="` + fmt.Sprint(ctl) + `"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="` + t.UTC().Format(time.RFC3339) + `"/></HDR>` +
		`<HEL><DEV><DEV.device_id V="` + d.MAC + `"/><DEV.vendor_id V="` + strings.ToUpper(strings.Fields(d.Vendor)[0]) + `"/><DEV.model_id V="` + d.Model + `"/><DEV.serial_id V="` + d.Serial + `"/>` +
		`<DEV.manufacturer_name V="` + d.Vendor + `"/><DEV.sw_version V="` + d.Software + `"/><DEV.device_name V="` + d.Hostname + `"/></DEV>` +
		`<DCP><DCP.application_timeout V="30"/></DCP><DSC><DSC.connection_profile_cd V="SA"/><DSC.topic_cd V="OBS"/></DSC></HEL></HEL.R01>`
}

func poctStatus(t time.Time, ctl, n int) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DST.R01><HDR><HDR.message_type V="DST.R01"/><HDR.control_id V="` + fmt.Sprint(ctl) + `"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="` + t.UTC().Format(time.RFC3339) + `"/></HDR>` +
		`<DST><DST.status_dttm V="` + t.UTC().Format(time.RFC3339) + `"/><DST.new_observations_qty V="` + fmt.Sprint(n) + `"/></DST></DST.R01>`
}

func poctAck(t time.Time, ctl, ackOf int) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ACK.R01><HDR><HDR.message_type V="ACK.R01"/><HDR.control_id V="` + fmt.Sprint(ctl) + `"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="` + t.UTC().Format(time.RFC3339) + `"/></HDR>` +
		`<ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="` + fmt.Sprint(ackOf) + `"/></ACK></ACK.R01>`
}

// ---- ASTM E1381 frames carrying E1394 / LIS2-A2 records ----

func astmFrame(fn int, text string) []byte {
	body := fmt.Sprintf("%d%s\x03", fn%8, text)
	var sum byte
	for i := 0; i < len(body); i++ {
		sum += body[i]
	}
	return []byte(fmt.Sprintf("\x02%s%02X\r\n", body, sum))
}

func astmRecords(t time.Time, d *Host, pt patient, glucose float64) []string {
	ts := t.UTC().Format("20060102150405")
	return []string{
		`H|\^&|||` + d.Model + `^` + d.Software + `^` + d.Serial + `|||||LIS||P|LIS2-A2|` + ts + "\r",
		"P|1||" + pt.mrn + "||" + pt.last + "^" + pt.first + "||" + pt.dob + "|" + pt.sex + "\r",
		"O|1|" + pt.mrn + "||^^^GLU\r",
		fmt.Sprintf("R|1|^^^GLU^1|%.1f|mmol/L||N||F||||%s\r", glucose, ts),
		"L|1|N\r",
	}
}

// ---- DHCP (RFC 2131/2132) ----

func dhcp(op, msgType byte, xid uint32, mac [6]byte, yiaddr, server [4]byte, hostname, vendor string) []byte {
	b := make([]byte, 236, 400)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], xid)
	if op == 2 {
		copy(b[16:], yiaddr[:])
		copy(b[20:], server[:])
	}
	copy(b[28:], mac[:])
	b = append(b, 0x63, 0x82, 0x53, 0x63, 53, 1, msgType)
	if op == 1 {
		b = append(b, 61, 7, 1)
		b = append(b, mac[:]...)
		if hostname != "" {
			b = append(b, 12, byte(len(hostname)))
			b = append(b, hostname...)
		}
		if vendor != "" {
			b = append(b, 60, byte(len(vendor)))
			b = append(b, vendor...)
		}
		if msgType == 3 {
			b = append(b, 50, 4)
			b = append(b, yiaddr[:]...)
			b = append(b, 54, 4)
			b = append(b, server[:]...)
		}
		b = append(b, 55, 6, 1, 3, 6, 15, 42, 51)
	} else {
		b = append(b, 54, 4)
		b = append(b, server[:]...)
		b = append(b, 51, 4, 0, 1, 0x51, 0x80) // 86400 s
		b = append(b, 1, 4, 255, 255, 0, 0)
		b = append(b, 3, 4)
		b = append(b, server[:]...)
		b = append(b, 6, 4)
		b = append(b, server[:]...)
	}
	b = append(b, 255)
	for len(b) < 300 {
		b = append(b, 0)
	}
	return b
}

// ---- DNS (RFC 1035) ----

func dnsName(b []byte, name string) []byte {
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func dnsQuery(id uint16, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	b = dnsName(b, name)
	return append(b, 0, 1, 0, 1)
}

func dnsAnswer(id uint16, name string, a [4]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	b = dnsName(b, name)
	b = append(b, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4)
	return append(b, a[:]...)
}

// ---- NTP (RFC 5905) ----

func ntp(mode byte, t time.Time) []byte {
	b := make([]byte, 48)
	b[0] = 4<<3 | mode
	if mode == 4 {
		b[1], b[2], b[3] = 2, 6, 0xe9
		copy(b[12:], "GPS\x00")
	}
	secs := uint32(t.Unix() + 2208988800)
	binary.BigEndian.PutUint32(b[40:], secs)
	binary.BigEndian.PutUint32(b[44:], uint32(t.Nanosecond())<<2)
	return b
}

// ---- TLS 1.2 handshake (RFC 5246, 6066, 7301) ----

func tlsRecord(typ byte, body []byte) []byte {
	b := []byte{typ, 3, 3}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func handshake(typ byte, body []byte) []byte {
	b := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

func ext(typ uint16, v []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func u16list(vals ...uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(2*len(vals)))
	for _, v := range vals {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

func clientHello(random []byte, sni string) []byte {
	b := []byte{3, 3}
	b = append(b, random[:32]...)
	b = append(b, 32)
	b = append(b, random[32:64]...)
	b = append(b, u16list(0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x1301, 0x1302, 0x1303)...)
	b = append(b, 1, 0)
	var e []byte
	host := append([]byte{0}, binary.BigEndian.AppendUint16(nil, uint16(len(sni)))...)
	host = append(host, sni...)
	e = append(e, ext(0, append(binary.BigEndian.AppendUint16(nil, uint16(len(host))), host...))...)
	e = append(e, ext(10, u16list(29, 23, 24))...)
	e = append(e, ext(11, []byte{1, 0})...)
	e = append(e, ext(13, u16list(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0807))...)
	e = append(e, ext(16, []byte{0, 9, 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})...)
	e = append(e, ext(23, nil)...)
	e = append(e, ext(43, []byte{4, 3, 4, 3, 3})...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	b = append(b, e...)
	return tlsRecord(22, handshake(1, b))
}

func serverFlight(random []byte, cert []byte) []byte {
	b := []byte{3, 3}
	b = append(b, random[:32]...)
	b = append(b, 32)
	b = append(b, random[32:64]...)
	b = append(b, 0xc0, 0x2b, 0)
	e := ext(65281, []byte{0})
	e = append(e, ext(23, nil)...)
	e = append(e, ext(16, []byte{0, 9, 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	b = append(b, e...)
	msgs := handshake(2, b)
	cl := []byte{byte(len(cert) >> 16), byte(len(cert) >> 8), byte(len(cert))}
	cl = append(cl, cert...)
	list := []byte{byte(len(cl) >> 16), byte(len(cl) >> 8), byte(len(cl))}
	msgs = append(msgs, handshake(11, append(list, cl...))...)
	msgs = append(msgs, handshake(14, nil)...)
	return tlsRecord(22, msgs)
}

// certificate makes a deterministic Ed25519 certificate for name, signed
// by a deterministic CA key (Ed25519 signatures need no randomness).
func certificate(name string, seed []byte, notBefore time.Time) ([]byte, error) {
	key := ed25519.NewKeyFromSeed(seed[:32])
	ca := ed25519.NewKeyFromSeed(append(make([]byte, 31), 7))
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(seed[:8]),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"Hospital"}},
		Issuer:       pkix.Name{CommonName: "Hospital Issuing CA"},
		NotBefore:    notBefore.Add(-24 * time.Hour),
		NotAfter:     notBefore.Add(365 * 24 * time.Hour),
		DNSNames:     []string{name},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "Hospital Issuing CA"}, SerialNumber: big.NewInt(1)}
	return x509.CreateCertificate(nil, tmpl, parent, key.Public(), ca)
}

// ---- SMB2 NEGOTIATE (MS-SMB2 2.2.3) over direct TCP ----

func smb2Negotiate(guid []byte) []byte {
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	h[4] = 64
	// command 0 NEGOTIATE, credits requested 31
	h[14] = 31
	body := []byte{36, 0, 4, 0, 1, 0, 0, 0, 0x7f, 0, 0, 0}
	body = append(body, guid[:16]...)
	body = append(body, make([]byte, 8)...)
	for _, d := range []uint16{0x0202, 0x0210, 0x0300, 0x0302} {
		body = binary.LittleEndian.AppendUint16(body, d)
	}
	msg := append(h, body...)
	nb := []byte{0, byte(len(msg) >> 16), byte(len(msg) >> 8), byte(len(msg))}
	return append(nb, msg...)
}

// ---- HTTP/1.1 ----

func httpGet(host, path, ua string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + ua + "\r\nAccept: */*\r\nConnection: close\r\n\r\n")
}

func httpOK(server string, body []byte) []byte {
	h := fmt.Sprintf("HTTP/1.1 200 OK\r\nServer: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", server, len(body))
	return append([]byte(h), body...)
}
