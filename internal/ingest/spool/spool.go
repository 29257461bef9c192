// Package spool is the sensor's bounded on-disk buffer of batches not yet
// acknowledged by the server: every batch is written (and fsynced) before
// it is sent and deleted only after the server acknowledged it, so a
// sensor that is killed, or a server that is down, loses nothing until the
// spool is full; then the oldest batches are dropped and counted.
package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBytes bounds a spool (--spool-max).
const DefaultMaxBytes = 512 << 20

const (
	stateFile = "state.json"
	suffix    = ".batch.json"
)

// Spool is a directory of pending batches named by sequence number. It is
// safe for concurrent use by one producer and one sender.
type Spool struct {
	dir string
	max int64

	mu      sync.Mutex
	st      state
	files   []entry // pending, oldest first
	bytes   int64
	dropped func(seq uint64, size int64) // told about each batch dropped for room
}

type state struct {
	NextSeq uint64 `json:"next_seq"`
	// Dropped counts batches deleted unsent because the spool was full.
	Dropped uint64 `json:"dropped"`
}

type entry struct {
	seq  uint64
	size int64
}

// Open opens (creating) the spool in dir, bounded to maxBytes. onDrop
// (may be nil) hears of every batch dropped for room.
func Open(dir string, maxBytes int64, onDrop func(seq uint64, size int64)) (*Spool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, max: maxBytes, dropped: onDrop}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s.st); err != nil {
			return nil, fmt.Errorf("spool %s: %s: %w", dir, stateFile, err)
		}
	case errors.Is(err, os.ErrNotExist):
		// A new spool (or one that was lost): start the sequence at the
		// current time in milliseconds, above anything an earlier spool of
		// this sensor can have sent (one batch per interval), so the
		// server's (sensor, seq) dedupe never mistakes new batches for old.
		s.st.NextSeq = uint64(time.Now().UnixMilli())
	default:
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name)) // a write cut short by a crash
			continue
		}
		if !strings.HasSuffix(name, suffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 64)
		if err != nil {
			continue
		}
		info, err := de.Info()
		if err != nil {
			return nil, fmt.Errorf("spool %s: %w", dir, err)
		}
		s.files = append(s.files, entry{seq, info.Size()})
		s.bytes += info.Size()
		s.st.NextSeq = max(s.st.NextSeq, seq+1)
	}
	slices.SortFunc(s.files, func(a, b entry) int { return cmpU(a.seq, b.seq) })
	return s, nil
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// NextSeq is the sequence number the next batch must carry.
func (s *Spool) NextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.NextSeq
}

// Put stores the batch with sequence seq durably (write, fsync, rename,
// fsync of the directory). When the spool would exceed its bound, the
// oldest batches are deleted first (and counted in Dropped).
func (s *Spool) Put(seq uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq < s.st.NextSeq {
		return fmt.Errorf("spool %s: batch %d is below the next sequence %d", s.dir, seq, s.st.NextSeq)
	}
	size := int64(len(data))
	for len(s.files) > 0 && s.bytes+size > s.max {
		old := s.files[0]
		if err := os.Remove(s.path(old.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool %s: drop batch %d: %w", s.dir, old.seq, err)
		}
		s.files = s.files[1:]
		s.bytes -= old.size
		s.st.Dropped++
		if s.dropped != nil {
			s.dropped(old.seq, old.size)
		}
	}
	if err := writeFile(s.dir, s.path(seq), data); err != nil {
		return fmt.Errorf("spool %s: batch %d: %w", s.dir, seq, err)
	}
	s.files = append(s.files, entry{seq, size})
	s.bytes += size
	s.st.NextSeq = seq + 1
	return s.saveState()
}

func (s *Spool) saveState() error {
	data, _ := json.Marshal(s.st)
	if err := writeFile(s.dir, filepath.Join(s.dir, stateFile), data); err != nil {
		return fmt.Errorf("spool %s: state: %w", s.dir, err)
	}
	return nil
}

// writeFile writes data to path atomically and durably.
func writeFile(dir, path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Oldest returns the oldest pending batch (ok false when none).
func (s *Spool) Oldest() (seq uint64, data []byte, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.files) > 0 {
		e := s.files[0]
		data, err := os.ReadFile(s.path(e.seq))
		if errors.Is(err, os.ErrNotExist) {
			s.files = s.files[1:]
			s.bytes -= e.size
			continue
		}
		if err != nil {
			return 0, nil, false, fmt.Errorf("spool %s: read batch %d: %w", s.dir, e.seq, err)
		}
		return e.seq, data, true, nil
	}
	return 0, nil, false, nil
}

// Remove deletes an acknowledged (or rejected) batch.
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.files, func(e entry) bool { return e.seq == seq })
	if i < 0 {
		return nil
	}
	if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool %s: remove batch %d: %w", s.dir, seq, err)
	}
	s.bytes -= s.files[i].size
	s.files = slices.Delete(s.files, i, i+1)
	return nil
}

// Stats are the spool's counters.
type Stats struct {
	Pending int    `json:"pending"`
	Bytes   int64  `json:"bytes"`
	Dropped uint64 `json:"dropped"`
}

// Stats returns the counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Pending: len(s.files), Bytes: s.bytes, Dropped: s.st.Dropped}
}
