#!/usr/bin/python3
"""Sequential requests to the shop example (examples/shop), for bench/record.sh.

  shop_load.py BASE_URL COUNT

Sends COUNT requests one after another, cycling through a fixed list that touches every endpoint,
each on its own connection with `Connection: close` (as `reel test` sends them). Against a fresh
database (deps.sh start) every run gets the same statuses. Prints one JSON line:
{"requests","seconds","per_s","statuses":{code:count}}; exits 1 if a request fails outright.
"""
import http.client
import json
import sys
import time
import urllib.parse

CYCLE = [
    ("GET", "/health", None),
    ("GET", "/products", None),
    ("GET", "/products/1", None),
    ("GET", "/products/2/price?currency=EUR", None),
    ("POST", "/products", {"name": "Bench mug", "price_cents": 990, "stock": 50}),
    ("GET", "/products", None),
    ("GET", "/products/3/price?currency=GBP", None),
    ("POST", "/orders", {"product_id": 1, "quantity": 1}),
    ("GET", "/products/3", None),
    ("GET", "/products/999", None),
]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: shop_load.py BASE_URL COUNT")
    url = urllib.parse.urlsplit(sys.argv[1])
    count = int(sys.argv[2])
    statuses = {}
    begin = time.monotonic()
    for i in range(count):
        method, path, body = CYCLE[i % len(CYCLE)]
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Connection": "close"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            resp.read()
        except OSError as e:
            sys.exit(f"shop_load.py: {method} {path}: {e}")
        finally:
            conn.close()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
    secs = time.monotonic() - begin
    print(json.dumps({"requests": count, "seconds": round(secs, 4), "per_s": round(count / secs, 1),
                      "statuses": {str(k): v for k, v in sorted(statuses.items())}}))


if __name__ == "__main__":
    main()
