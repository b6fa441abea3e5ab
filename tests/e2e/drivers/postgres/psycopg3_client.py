# The driver matrix scenario (README.md) with psycopg 3: server-side prepared statements after
# prepare_threshold (here 2) executions of the same query.
import sys
import psycopg

port = int(sys.argv[1])
extra = sys.argv[2] if len(sys.argv) > 2 else "SELECT 42 AS answer"
t = "items_psycopg3"
with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                     prepare_threshold=2) as conn:
    print("ping", conn.execute("SELECT 1").fetchone()[0])
    conn.execute(f"DROP TABLE IF EXISTS {t}")
    conn.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, price numeric(6,2))")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {t} VALUES (%s, %s, %s)",
                        [(i, f"item-{i}", None if i == 4 else i * 1.25) for i in range(1, 7)])
    conn.commit()
    for i in range(1, 7):
        row = conn.execute(f"SELECT name, price FROM {t} WHERE id = %s", (i,)).fetchone()
        print("row", i, row)
    conn.execute(f"UPDATE {t} SET name = 'changed' WHERE id = 1")
    conn.rollback()
    print("after rollback", conn.execute(f"SELECT name FROM {t} WHERE id = %s", (1,)).fetchone()[0])
    try:
        conn.execute("SELECT 1/0")
    except psycopg.Error as e:
        print("error", e.sqlstate)
        conn.rollback()
    try:
        print("extra", conn.execute(extra).fetchall())
    except psycopg.Error as e:
        print("extra failed", e.sqlstate)
        sys.exit(3)
