# redis-py: one pooled connection, AUTH at its start, a GET per lookup.
import os, sys, time
import redis

port, mode = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(host="127.0.0.1", port=port, password=os.environ["REDIS_PASSWORD"])
def lookup(i): return r.get(f"item:{i}").decode()
if mode == "once":
    for i in range(1, 7): print("row", i, lookup(i))
    sys.exit(0)
for i in range(1, 7): lookup(i)
print("warm", flush=True)
while True:
    for i in range(1, 7): lookup(i); time.sleep(0.02)
