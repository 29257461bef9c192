package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Unavailable reports whether err means the database could not do the work
// for a passing reason — the server is unreachable, restarting or shutting
// down, a connection was lost, SQLite stayed busy past its timeout, or the
// volume is full — so that the same request may succeed later. The API
// answers these with 503 and Retry-After instead of 500; nothing was
// written (a lost connection aborts its transaction).
//
// It looks only at the standard library's error types and at two small
// interfaces the drivers' errors implement: SQLState() (pgx's PgError) and
// Code() (modernc.org/sqlite's Error), so this package needs no driver.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		code := pe.SQLState()
		switch {
		case strings.HasPrefix(code, "08"), // connection exception
			code == "57P01", code == "57P02", code == "57P03", // admin/crash shutdown, cannot connect now
			strings.HasPrefix(code, "53"),    // insufficient resources (disk full, too many connections)
			code == "40001", code == "40P01": // serialization failure, deadlock: retryable
			return true
		}
		return false
	}
	var ce interface{ Code() int }
	if errors.As(err, &ce) {
		switch ce.Code() & 0xff { // primary result code
		case 5, 6, 13: // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL
			return true
		}
		return false
	}
	// pgx reports a connection closed under it by text only.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe")
}
