# psycopg2: simple Query messages, parameters interpolated by the client.
import os, sys
import psycopg2
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookup_loop import run  # noqa: E402

port, mode = int(sys.argv[1]), sys.argv[2]
conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
conn.autocommit = True
cur = conn.cursor()


def lookup(i):
    cur.execute("SELECT name FROM items_passive WHERE id = %s", (i,))
    return cur.fetchone()[0]


run(mode, lookup)
