# The driver matrix scenario (README.md) with psycopg2 (libpq underneath).
import sys
import psycopg2

port = int(sys.argv[1])
extra = sys.argv[2] if len(sys.argv) > 2 else "SELECT 42 AS answer"
t = "items_psycopg2"
conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
cur = conn.cursor()
cur.execute("SELECT 1")
print("ping", cur.fetchone()[0])
cur.execute(f"DROP TABLE IF EXISTS {t}")
cur.execute(f"CREATE TABLE {t} (id int PRIMARY KEY, name text, price numeric(6,2))")
cur.executemany(f"INSERT INTO {t} VALUES (%s, %s, %s)",
                [(i, f"item-{i}", None if i == 4 else i * 1.25) for i in range(1, 7)])
conn.commit()
for i in range(1, 7):
    cur.execute(f"SELECT name, price FROM {t} WHERE id = %s", (i,))
    print("row", i, cur.fetchone())
cur.execute(f"UPDATE {t} SET name = 'changed' WHERE id = 1")
conn.rollback()
cur.execute(f"SELECT name FROM {t} WHERE id = %s", (1,))
print("after rollback", cur.fetchone()[0])
try:
    cur.execute("SELECT 1/0")
except psycopg2.Error as e:
    print("error", e.pgcode)
    conn.rollback()
try:
    cur.execute(extra)
    print("extra", cur.fetchall())
except psycopg2.Error as e:
    print("extra failed", e.pgcode)
    sys.exit(3)
conn.close()
