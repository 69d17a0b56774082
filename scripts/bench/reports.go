package main

import (
	"context"
)

func init() {
	register(section{Name: "reports", Order: 60, Run: benchReports})
}

func benchReports(ctx context.Context, e *env) error {
	var count int
	_ = e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM records`).Scan(&count)
	if count == 0 {
		if _, err := seedReports(ctx, e.DB.Pool, e.Records); err != nil {
			return err
		}
	}
	return nil
}
