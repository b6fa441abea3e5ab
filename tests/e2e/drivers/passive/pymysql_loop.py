# PyMySQL: COM_QUERY with the parameters interpolated by the client.
import sys, time
import pymysql

port, mode, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pymysql.connect(host="127.0.0.1", port=port, user="app", password=password, database="shop",
                       autocommit=True)
cur = conn.cursor()
def lookup(i):
    cur.execute("SELECT name FROM items_passive WHERE id = %s", (i,))
    return cur.fetchone()[0]
if mode == "once":
    for i in range(1, 7): print("row", i, lookup(i))
    sys.exit(0)
for i in range(1, 7): lookup(i)
print("warm", flush=True)
while True:
    for i in range(1, 7): lookup(i); time.sleep(0.02)
