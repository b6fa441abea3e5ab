# The driver matrix scenario with PyMySQL (client-side parameters: COM_QUERY with literals).
# Usage: client.py PORT PASSWORD TABLE [IDS]: IDS (comma-separated, default 1..6) are looked up.
import sys
import pymysql

port, password, table = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ids = [int(i) for i in (sys.argv[4] if len(sys.argv) > 4 else "1,2,3,4,5,6").split(",")]
proc = "p" + table[1:]


def show(row):
    return " ".join("NULL" if v is None else str(v) for v in row)


def main():
    conn = pymysql.connect(host="127.0.0.1", port=port, user="app", password=password,
                           database="shop", autocommit=True)
    cur = conn.cursor()
    conn.ping(reconnect=False)
    cur.execute("SELECT 1")
    print("health", cur.fetchone()[0])
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"DROP PROCEDURE IF EXISTS {proc}")
    cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), seen DATETIME)")
    rows = [(1, "one", "1.50", "2024-01-02 03:04:05"), (2, "two", None, "2024-02-03 04:05:06"),
            (3, None, "3.00", None), (4, "four", "4.25", "2024-04-05 06:07:08"),
            (5, "five", "-5.10", "2024-05-06 07:08:09"), (6, "six", "6.00", "2024-06-07 08:09:10")]
    print("inserted", cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s)", rows))
    for i in ids:
        cur.execute(f"SELECT id, name, price, seen FROM {table} WHERE id = %s", (i,))
        print("get", i, show(cur.fetchone() or ["none"]))
    conn.begin()
    cur.execute(f"UPDATE {table} SET name = %s WHERE id = %s", ("changed", 1))
    print("updated", cur.rowcount)
    conn.rollback()
    cur.execute(f"SELECT name FROM {table} WHERE id = %s", (1,))
    print("after rollback", cur.fetchone()[0])
    try:
        cur.execute("SELECT * FROM no_such_table")
    except pymysql.MySQLError as e:
        print("error", e.args[0])
    cur.execute(f"SELECT id, name, price, seen FROM {table} ORDER BY id")
    for row in cur.fetchall():
        print("row", show(row))
    cur.execute(f"CREATE PROCEDURE {proc}() BEGIN SELECT id, price FROM {table} WHERE price IS NOT NULL "
                f"ORDER BY id; SELECT COUNT(*) AS n, SUM(price) AS total FROM {table}; END")
    cur.execute(f"CALL {proc}()")
    n = 0
    while True:
        n += 1
        for row in cur.fetchall():
            print("result", n, show(row))
        if not cur.nextset():
            break
    conn.close()


try:
    main()
except pymysql.MySQLError as e:  # an error the scenario does not expect: code and message
    print("failed", *e.args)
    sys.exit(1)
print("done")
