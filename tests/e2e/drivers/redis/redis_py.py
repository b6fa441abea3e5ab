# The driver matrix's standard Redis scenario with redis-py: AUTH, plain commands, a pipeline,
# MULTI/EXEC with a failing command, MULTI/DISCARD, an error reply, a missing key and pub/sub.
# Usage: REDIS_PASSWORD=... redis_py.py PORT PREFIX VALUE. Prints one line per result; an
# unexpected error is printed and ends the run with exit code 1.
import os
import sys

import redis


def main():
    port, p, value = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    r = redis.Redis(host="127.0.0.1", port=port, password=os.environ["REDIS_PASSWORD"],
                    decode_responses=True, socket_timeout=10)
    print("ping", r.ping())
    print("set", r.set(f"{p}:greeting", value))
    print("get", r.get(f"{p}:greeting"))
    print("incr", r.incr(f"{p}:counter"))
    print("incrby", r.incrby(f"{p}:counter", 5))
    print("hset", r.hset(f"{p}:user", mapping={"name": value, "age": "42"}))
    print("hgetall", sorted(r.hgetall(f"{p}:user").items()))
    print("rpush", r.rpush(f"{p}:list", "a", "b", value))
    print("lrange", r.lrange(f"{p}:list", 0, -1))

    pipe = r.pipeline(transaction=False)
    pipe.set(f"{p}:p1", 10).incr(f"{p}:p1").get(f"{p}:p1").lpop(f"{p}:list")
    print("pipeline", pipe.execute())

    tx = r.pipeline(transaction=True)
    tx.set(f"{p}:t1", value).incr(f"{p}:t1").get(f"{p}:t1")
    print("exec", [f"error: {x}" if isinstance(x, Exception) else x
                   for x in tx.execute(raise_on_error=False)])

    # MULTI, a queued SET, DISCARD: redis-py's transaction pipeline never discards on the wire,
    # so send the commands one by one on one connection.
    conn = r.connection_pool.get_connection("MULTI")
    try:
        for cmd in (("MULTI",), ("SET", f"{p}:t2", value), ("DISCARD",)):
            conn.send_command(*cmd)
            print(cmd[0].lower(), conn.read_response())
    finally:
        r.connection_pool.release(conn)
    print("get-discarded", r.get(f"{p}:t2"))

    try:
        r.incr(f"{p}:greeting")
        print("incr-string: no error")
    except redis.ResponseError as e:
        print("incr-string error:", e)
    print("missing", r.get(f"{p}:missing"))

    # Pub/sub on a connection of its own: two channels, then a bare UNSUBSCRIBE (one reply per
    # channel). Counts only: Redis confirms a bare UNSUBSCRIBE in its own order.
    # Blocking reads: a confirmation that never comes ends the run at the socket timeout.
    ps = r.pubsub()
    ps.subscribe(f"{p}:news", f"{p}:weather")
    got = [ps.handle_message(ps.parse_response(block=True)) for _ in range(2)]
    ps.unsubscribe()
    got += [ps.handle_message(ps.parse_response(block=True)) for _ in range(2)]
    print("pubsub", [(m["type"], m["data"]) for m in got])
    ps.close()


if __name__ == "__main__":
    try:
        main()
    except redis.RedisError as e:
        print("error:", e)
        sys.exit(1)
