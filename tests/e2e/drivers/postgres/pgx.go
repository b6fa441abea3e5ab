// The driver matrix scenario (README.md) with pgx v4 (its own protocol code, no database/sql):
// every query is prepared once into pgx's statement cache (Parse/Describe/Sync) and then bound.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgx:", err)
		os.Exit(1)
	}
}

func main() {
	ctx := context.Background()
	extra := "SELECT 42 AS answer"
	if len(os.Args) > 2 {
		extra = os.Args[2]
	}
	t := "items_pgx"
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:"+os.Args[1]+"/postgres?sslmode=disable")
	must(err)
	must(conn.Ping(ctx))
	fmt.Println("ping ok")
	_, err = conn.Exec(ctx, "DROP TABLE IF EXISTS "+t)
	must(err)
	_, err = conn.Exec(ctx, "CREATE TABLE "+t+" (id int PRIMARY KEY, name text, price numeric(6,2))")
	must(err)
	batch := &pgx.Batch{}
	for i := 1; i <= 6; i++ {
		var price interface{} = fmt.Sprintf("%.2f", float64(i)*1.25)
		if i == 4 {
			price = nil
		}
		batch.Queue("INSERT INTO "+t+" VALUES ($1, $2, $3)", i, fmt.Sprintf("item-%d", i), price)
	}
	must(conn.SendBatch(ctx, batch).Close())
	for i := 1; i <= 6; i++ {
		var name string
		var price *string
		must(conn.QueryRow(ctx, "SELECT name, price::text FROM "+t+" WHERE id = $1", i).Scan(&name, &price))
		p := "NULL"
		if price != nil {
			p = *price
		}
		fmt.Println("row", i, name, p)
	}
	tx, err := conn.Begin(ctx)
	must(err)
	_, err = tx.Exec(ctx, "UPDATE "+t+" SET name = $1 WHERE id = $2", "changed", 1)
	must(err)
	must(tx.Rollback(ctx))
	var name string
	must(conn.QueryRow(ctx, "SELECT name FROM "+t+" WHERE id = $1", 1).Scan(&name))
	fmt.Println("after rollback", name)
	var pgErr *pgconn.PgError
	_, err = conn.Exec(ctx, "SELECT 1/0")
	if errors.As(err, &pgErr) {
		fmt.Println("error", pgErr.Code)
	} else {
		fmt.Println("error: not a server error:", err)
	}
	var v int
	err = conn.QueryRow(ctx, extra).Scan(&v)
	if errors.As(err, &pgErr) {
		fmt.Println("extra failed", pgErr.Code)
		os.Exit(3)
	}
	must(err)
	fmt.Println("extra", v)
	must(conn.Close(ctx))
}
