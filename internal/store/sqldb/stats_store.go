package sqldb

import (
	"context"
	"fmt"
	"slices"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// DeviceStats counts the inventory for the dashboard. Every query is
// served by an index except the observed count.
func (s *DB) DeviceStats(ctx context.Context, today string) (*store.DeviceStats, error) {
	st := &store.DeviceStats{}
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM devices").Scan(&st.Total); err != nil {
		return nil, fmt.Errorf("count devices: %w", err)
	}
	byRank, err := s.counts(ctx, "SELECT criticality_rank, count(*) FROM devices GROUP BY criticality_rank")
	if err != nil {
		return nil, fmt.Errorf("devices by criticality: %w", err)
	}
	// most critical first, unknown last
	for _, c := range inventory.Criticalities {
		for _, r := range byRank {
			if r.Key == fmt.Sprint(c.Rank()) {
				st.ByCriticality = append(st.ByCriticality, store.Count{Key: string(c), N: r.N})
			}
		}
	}
	for _, r := range byRank {
		if r.Key == "0" {
			st.ByCriticality = append(st.ByCriticality, store.Count{Key: "", N: r.N})
		}
	}
	for _, g := range []struct {
		col string
		dst *[]store.Count
	}{{"device_type", &st.ByType}, {"site", &st.BySite}} {
		f := s.dialect.Fold(g.col)
		cs, err := s.counts(ctx, fmt.Sprintf("SELECT min(%s), count(*) FROM devices GROUP BY %s", g.col, f))
		if err != nil {
			return nil, fmt.Errorf("devices by %s: %w", g.col, err)
		}
		slices.SortStableFunc(cs, func(a, b store.Count) int {
			if a.N != b.N {
				if a.N > b.N {
					return -1
				}
				return 1
			}
			if a.Key < b.Key {
				return -1
			}
			if a.Key > b.Key {
				return 1
			}
			return 0
		})
		*g.dst = cs
	}
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM devices WHERE end_of_support > '' AND end_of_support < $1", today).Scan(&st.PastSupport); err != nil {
		return nil, fmt.Errorf("count devices past end of support: %w", err)
	}
	if err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM devices WHERE observed <> '{}'").Scan(&st.WithObserved); err != nil {
		return nil, fmt.Errorf("count observed devices: %w", err)
	}
	return st, nil
}

func (s *DB) counts(ctx context.Context, q string) ([]store.Count, error) {
	rows, err := s.SQL.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		var k any
		if err := rows.Scan(&k, &c.N); err != nil {
			return nil, err
		}
		switch v := k.(type) {
		case nil:
		case []byte:
			c.Key = string(v)
		default:
			c.Key = fmt.Sprint(v)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ScanObserved streams devices that carry observed values, by id.
func (s *DB) ScanObserved(ctx context.Context, fn func(*inventory.Device) error) error {
	rows, err := s.SQL.QueryContext(ctx, selectDevice+" WHERE observed <> '{}' ORDER BY id")
	if err != nil {
		return fmt.Errorf("scan observed devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}
