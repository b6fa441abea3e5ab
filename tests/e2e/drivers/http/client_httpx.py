"""The driver matrix's HTTP scenario with httpx (sync client): client_httpx.py BASE [EXTRA_PATH]."""
import sys

import httpx

base, extra = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
with httpx.Client(timeout=10) as c:
    r = c.get(base + "/items/42")
    print("GET /items/42", r.status_code, r.text)
    r = c.post(base + "/echo", json={"word": "hello", "n": 7})
    print("POST /echo", r.status_code, r.text)
    r = c.get(base + "/missing")
    print("GET /missing", r.status_code, r.text)
    r = c.get(base + "/headers")
    print("GET /headers", r.status_code, r.text, "x-reel-trace=" + r.headers.get("x-reel-trace", "-"))
    if extra:
        print("GET", extra, c.get(base + extra).status_code)
