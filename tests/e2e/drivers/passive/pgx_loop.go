// pgx v4: every query goes through its statement cache (a named Parse once, Binds after).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v4"
)

func main() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:"+os.Args[1]+"/postgres?sslmode=disable")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lookup := func(i int) string {
		var name string
		if err := conn.QueryRow(ctx, "SELECT name FROM items_passive WHERE id = $1", i).Scan(&name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return name
	}
	if os.Args[2] == "once" {
		for i := 1; i <= 6; i++ {
			fmt.Println("row", i, lookup(i))
		}
		return
	}
	for i := 1; i <= 6; i++ {
		lookup(i)
	}
	fmt.Println("warm")
	for {
		for i := 1; i <= 6; i++ {
			lookup(i)
			time.Sleep(20 * time.Millisecond)
		}
	}
}
