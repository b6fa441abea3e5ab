# PyMySQL: COM_QUERY with the parameters interpolated by the client.
import os, sys
import pymysql
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookup_loop import run  # noqa: E402

port, mode, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pymysql.connect(host="127.0.0.1", port=port, user="app", password=password, database="shop",
                       autocommit=True)
cur = conn.cursor()


def lookup(i):
    cur.execute("SELECT name FROM items_passive WHERE id = %s", (i,))
    return cur.fetchone()[0]


run(mode, lookup)
