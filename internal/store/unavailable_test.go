package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

type codeErr int

func (e codeErr) Error() string { return fmt.Sprintf("sqlite: code %d", int(e)) }
func (e codeErr) Code() int     { return int(e) }

func TestUnavailable(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", ErrNotFound, false},
		{"conflict", fmt.Errorf("update device 7: %w", ErrConflict), false},
		{"plain error", errors.New("syntax error near FROM"), false},
		{"dial refused", fmt.Errorf("list devices: failed to connect: %w", dial), true},
		{"bad conn", fmt.Errorf("query: %w", driver.ErrBadConn), true},
		{"unexpected EOF", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"server deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), true},
		{"admin shutdown 57P01", fmt.Errorf("insert: %w", sqlStateErr("57P01")), true},
		{"cannot connect now 57P03", sqlStateErr("57P03"), true},
		{"connection failure 08006", sqlStateErr("08006"), true},
		{"disk full 53100", sqlStateErr("53100"), true},
		{"deadlock 40P01", sqlStateErr("40P01"), true},
		{"unique violation 23505", sqlStateErr("23505"), false},
		{"syntax 42601", sqlStateErr("42601"), false},
		{"sqlite busy", codeErr(5), true},
		{"sqlite busy snapshot (extended)", codeErr(5 | 2<<8), true},
		{"sqlite full", fmt.Errorf("commit: %w", codeErr(13)), true},
		{"sqlite constraint", codeErr(19), false},
		{"enospc", &os.PathError{Op: "write", Path: "/data/medwarden.db-wal", Err: syscall.ENOSPC}, true},
		{"pgx conn closed", errors.New("conn closed"), true},
	}
	for _, tt := range tests {
		if got := Unavailable(tt.err); got != tt.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
