// The driver matrix scenario with go-sql-driver/mysql: db.Query with arguments and db.Prepare +
// Stmt.Query use the binary protocol (server-side prepared statements); without arguments, text.
// Usage: client PORT PASSWORD TABLE [IDS]: IDS (comma-separated, default 1..6) are looked up.
package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
)

func show(rows *sql.Rows) {
	cols, _ := rows.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	check(rows.Scan(ptrs...))
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = "NULL"
		if v.Valid {
			out[i] = v.String
		}
	}
	fmt.Println(strings.Join(out, " "))
}

func check(err error) {
	if err != nil {
		fmt.Println("failed", err)
		os.Exit(1)
	}
}

func main() {
	port, password, table := os.Args[1], os.Args[2], os.Args[3]
	ids := "1,2,3,4,5,6"
	if len(os.Args) > 4 {
		ids = os.Args[4]
	}
	proc := "p" + table[1:]
	db, err := sql.Open("mysql", "app:"+password+"@tcp(127.0.0.1:"+port+")/shop")
	check(err)
	db.SetMaxOpenConns(1)
	check(db.Ping())
	var health int
	check(db.QueryRow("SELECT 1").Scan(&health))
	fmt.Println("health", health)
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + table, "DROP PROCEDURE IF EXISTS " + proc,
		"CREATE TABLE " + table + " (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), seen DATETIME)",
	} {
		_, err = db.Exec(q)
		check(err)
	}
	ins, err := db.Prepare("INSERT INTO " + table + " VALUES (?, ?, ?, ?)")
	check(err)
	for _, r := range [][]any{{1, "one", "1.50", "2024-01-02 03:04:05"}, {2, "two", nil, "2024-02-03 04:05:06"},
		{3, nil, "3.00", nil}, {4, "four", "4.25", "2024-04-05 06:07:08"},
		{5, "five", "-5.10", "2024-05-06 07:08:09"}, {6, "six", "6.00", "2024-06-07 08:09:10"}} {
		_, err = ins.Exec(r...)
		check(err)
	}
	check(ins.Close())
	fmt.Println("inserted 6")
	get, err := db.Prepare("SELECT id, name, price, seen FROM " + table + " WHERE id = ?")
	check(err)
	for _, id := range strings.Split(ids, ",") {
		rows, err := get.Query(id)
		check(err)
		fmt.Print("get ", id, " ")
		if rows.Next() {
			show(rows)
		} else {
			fmt.Println("none")
		}
		check(rows.Close())
	}
	tx, err := db.Begin()
	check(err)
	res, err := tx.Exec("UPDATE "+table+" SET name = ? WHERE id = ?", "changed", 1)
	check(err)
	n, _ := res.RowsAffected()
	fmt.Println("updated", n)
	check(tx.Rollback())
	var name string
	check(db.QueryRow("SELECT name FROM "+table+" WHERE id = ?", 1).Scan(&name))
	fmt.Println("after rollback", name)
	_, err = db.Query("SELECT * FROM no_such_table")
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		check(fmt.Errorf("want a MySQL error, got %v", err))
	}
	fmt.Println("error", myErr.Number)
	rows, err := db.Query("SELECT id, name, price, seen FROM "+table+" WHERE id > ? ORDER BY id", 0)
	check(err)
	for rows.Next() {
		fmt.Print("row ")
		show(rows)
	}
	check(rows.Err())
	_, err = db.Exec("CREATE PROCEDURE " + proc + "() BEGIN SELECT id, price FROM " + table +
		" WHERE price IS NOT NULL ORDER BY id; SELECT COUNT(*) AS n, SUM(price) AS total FROM " + table + "; END")
	check(err)
	rows, err = db.Query("CALL " + proc + "()")
	check(err)
	for set := 1; ; set++ {
		for rows.Next() {
			fmt.Print("result ", set, " ")
			show(rows)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	check(rows.Err())
	check(get.Close())
	check(db.Close())
	fmt.Println("done")
}
