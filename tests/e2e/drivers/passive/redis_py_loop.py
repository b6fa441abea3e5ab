# redis-py: one pooled connection, AUTH at its start, a GET per lookup.
import os, sys
import redis
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lookup_loop import run  # noqa: E402

port, mode = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(host="127.0.0.1", port=port, password=os.environ["REDIS_PASSWORD"])
run(mode, lambda i: r.get(f"item:{i}").decode())
