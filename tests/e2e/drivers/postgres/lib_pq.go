// The driver matrix scenario (README.md) with Go's database/sql and lib/pq: db.Ping sends the
// empty simple query ";", parameterised queries go out as unnamed Parse/Bind/Execute/Sync, a
// prepared *sql.Stmt as one named statement bound again for each id.
package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/lib/pq"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "lib_pq:", err)
		os.Exit(1)
	}
}

func main() {
	extra := "SELECT 42 AS answer"
	if len(os.Args) > 2 {
		extra = os.Args[2]
	}
	t := "items_lib_pq"
	db, err := sql.Open("postgres", "host=127.0.0.1 port="+os.Args[1]+" user=postgres dbname=postgres sslmode=disable")
	must(err)
	db.SetMaxOpenConns(1)
	must(db.Ping())
	fmt.Println("ping ok")
	_, err = db.Exec("DROP TABLE IF EXISTS " + t)
	must(err)
	_, err = db.Exec("CREATE TABLE " + t + " (id int PRIMARY KEY, name text, price numeric(6,2))")
	must(err)
	for i := 1; i <= 6; i++ {
		var price interface{} = float64(i) * 1.25
		if i == 4 {
			price = nil
		}
		_, err = db.Exec("INSERT INTO "+t+" VALUES ($1, $2, $3)", i, fmt.Sprintf("item-%d", i), price)
		must(err)
	}
	stmt, err := db.Prepare("SELECT name, price FROM " + t + " WHERE id = $1")
	must(err)
	for i := 1; i <= 6; i++ {
		var name string
		var price sql.NullString
		must(stmt.QueryRow(i).Scan(&name, &price))
		fmt.Println("row", i, name, price.String, price.Valid)
	}
	must(stmt.Close())
	tx, err := db.Begin()
	must(err)
	_, err = tx.Exec("UPDATE "+t+" SET name = $1 WHERE id = $2", "changed", 1)
	must(err)
	must(tx.Rollback())
	var name string
	must(db.QueryRow("SELECT name FROM "+t+" WHERE id = $1", 1).Scan(&name))
	fmt.Println("after rollback", name)
	var pqErr *pq.Error
	_, err = db.Exec("SELECT 1/0")
	if errors.As(err, &pqErr) {
		fmt.Println("error", pqErr.Code)
	} else {
		fmt.Println("error: not a server error:", err)
	}
	rows, err := db.Query(extra)
	if errors.As(err, &pqErr) {
		fmt.Println("extra failed", pqErr.Code)
		os.Exit(3)
	}
	must(err)
	for rows.Next() {
		var v string
		must(rows.Scan(&v))
		fmt.Println("extra", v)
	}
	must(db.Close())
}
