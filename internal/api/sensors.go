package api

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/store"
)

// Sensors authenticate with client certificates issued by the sensor CA
// (internal/pki). The TLS layer verifies the chain and validity period;
// authenticate then requires the certificate's serial to be on record for
// the sensor it names, and neither to be revoked. A sensor principal
// holds only the sensor scopes (any scope of area "sensor", e.g.
// sensor:write for POST /api/v1/sensor/batches and sensor:renew).

// ScopeSensorRenew lets a sensor renew its own certificate.
const ScopeSensorRenew = "sensor:renew"

type sensorPKI struct {
	ca *pki.CA
	ss store.SensorStore
}

// EnableSensors turns on sensor enrolment, renewal and client-certificate
// authentication with this CA and store. The server's TLS configuration
// must request client certificates (pki.RequestClientCerts).
func (s *Server) EnableSensors(ca *pki.CA, ss store.SensorStore) {
	s.pki = &sensorPKI{ca: ca, ss: ss}
}

var errBadSensorCert = fmt.Errorf("%w: the client certificate is not that of an enrolled, unrevoked sensor", errUnauthenticated)

// sensorPrincipal maps a verified client certificate to its sensor.
func (s *Server) sensorPrincipal(ctx context.Context, chains [][]*x509.Certificate, now time.Time) (*Principal, error) {
	if s.pki == nil || len(chains) == 0 || len(chains[0]) == 0 {
		return nil, errBadSensorCert
	}
	leaf := chains[0][0]
	id, ok := pki.SensorID(leaf)
	if !ok || now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return nil, errBadSensorCert
	}
	c, err := s.pki.ss.GetSensorCert(ctx, pki.SerialHex(leaf.SerialNumber))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadSensorCert
	}
	if err != nil {
		return nil, err
	}
	if c.SensorID != id || !c.RevokedAt.IsZero() {
		return nil, errBadSensorCert
	}
	sn, err := s.pki.ss.GetSensor(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadSensorCert
	}
	if err != nil {
		return nil, err
	}
	if !sn.RevokedAt.IsZero() {
		return nil, errBadSensorCert
	}
	if now.Sub(sn.LastSeen) > time.Minute {
		if err := s.pki.ss.TouchSensor(ctx, id, now); err != nil {
			s.log.Warn("record sensor use", "sensor", id, "err", err)
		}
	}
	return &Principal{Sensor: sn, SensorCert: c}, nil
}

func (s *Server) decodeEnrol(w http.ResponseWriter, r *http.Request) (*pki.EnrolRequest, *x509.CertificateRequest, bool) {
	if s.pki == nil {
		writeProblem(w, r, Problem{Type: typeInternal, Title: "sensor enrolment is off", Status: http.StatusServiceUnavailable,
			Detail: "this server has no sensor CA: serve over TLS (the default) to enrol sensors"})
		return nil, nil, false
	}
	var req pki.EnrolRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		badRequest(w, r, "body: "+err.Error())
		return nil, nil, false
	}
	csr, err := pki.ParseCSR([]byte(req.CSR))
	if err != nil {
		badRequest(w, r, "field csr: "+err.Error())
		return nil, nil, false
	}
	return &req, csr, true
}

func (s *Server) certResponse(sn *store.Sensor, is *pki.Issued) pki.CertResponse {
	return pki.CertResponse{SensorID: sn.ID, Name: sn.Name, Certificate: string(is.PEM), CA: string(s.pki.ca.CertPEM), Serial: is.Serial, NotAfter: is.NotAfter}
}

// enrolSensor exchanges a one-time enrolment token and a certificate
// request for a client certificate. It is a public route: the token is
// the credential (256 random bits, hashed, one-time, expiring).
func (s *Server) enrolSensor(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if ok, wait := s.clientLimit.take(ip, 1); !ok {
		tooMany(w, r, wait, "too many requests from "+ip)
		return
	}
	req, csr, ok := s.decodeEnrol(w, r)
	if !ok {
		return
	}
	refuse := func() {
		s.clientLimit.charge(ip, authFailureCost)
		writeProblem(w, r, Problem{Type: typeUnauthorized, Title: "enrolment refused", Status: http.StatusUnauthorized,
			Detail: "the enrolment token is unknown, used or expired; ask an administrator for a new one ('medwarden sensors token')"})
	}
	if !pki.LooksLikeEnrolmentToken(strings.TrimSpace(req.Token)) {
		refuse()
		return
	}
	now := s.now()
	id, err := pki.NewSensorID()
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	is, err := s.pki.ca.Issue(csr, id, now)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	sn := &store.Sensor{ID: id}
	c := &store.SensorCert{Serial: is.Serial, NotBefore: is.NotBefore, NotAfter: is.NotAfter, IssuedAt: now}
	if err := s.pki.ss.Enrol(r.Context(), pki.HashEnrolmentToken(strings.TrimSpace(req.Token)), now, sn, c); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			refuse()
			return
		}
		s.storeError(w, r, err)
		return
	}
	ctx := audit.WithActor(r.Context(), audit.Actor{Name: "sensor:" + sn.ID, Kind: audit.KindSensor, Source: ip})
	s.auditPKI(ctx, "sensor.enrol", "sensor/"+sn.ID, map[string]any{"name": sn.Name, "serial": is.Serial, "not_after": is.NotAfter, "enrolment_token_by": sn.CreatedBy})
	writeJSON(w, http.StatusOK, s.certResponse(sn, is))
}

// renewSensor issues a new certificate to the sensor whose current,
// valid certificate authenticated the request.
func (s *Server) renewSensor(w http.ResponseWriter, r *http.Request) {
	p, ok := PrincipalFrom(r.Context())
	if !ok || p.Sensor == nil {
		forbidden(w, r, "only an enrolled sensor, with its client certificate, can renew its certificate")
		return
	}
	_, csr, ok := s.decodeEnrol(w, r)
	if !ok {
		return
	}
	now := s.now()
	is, err := s.pki.ca.Issue(csr, p.Sensor.ID, now)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.pki.ss.AddSensorCert(r.Context(), &store.SensorCert{Serial: is.Serial, SensorID: p.Sensor.ID, NotBefore: is.NotBefore, NotAfter: is.NotAfter, IssuedAt: now}); err != nil {
		s.storeError(w, r, err)
		return
	}
	s.auditPKI(r.Context(), "sensor.renew", "sensor/"+p.Sensor.ID, map[string]any{"serial": is.Serial, "not_after": is.NotAfter, "previous_serial": p.SensorCert.Serial})
	writeJSON(w, http.StatusOK, s.certResponse(p.Sensor, is))
}

func (s *Server) auditPKI(ctx context.Context, action, object string, after any) {
	if s.sec == nil {
		return
	}
	if err := recorder.Record(ctx, s.sec, action, object, nil, after); err != nil {
		s.log.Error("audit append failed", "action", action, "object", object, "err", err)
	}
}
