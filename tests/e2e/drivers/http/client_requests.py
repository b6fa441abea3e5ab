"""The driver matrix's HTTP scenario with python requests: client_requests.py BASE [EXTRA_PATH]."""
import sys

import requests

base, extra = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
with requests.Session() as s:
    r = s.get(base + "/items/42", timeout=10)
    print("GET /items/42", r.status_code, r.text)
    r = s.post(base + "/echo", json={"word": "hello", "n": 7}, timeout=10)
    print("POST /echo", r.status_code, r.text)
    r = s.get(base + "/missing", timeout=10)
    print("GET /missing", r.status_code, r.text)
    r = s.get(base + "/headers", timeout=10)
    print("GET /headers", r.status_code, r.text, "x-reel-trace=" + r.headers.get("X-Reel-Trace", "-"))
    if extra:
        print("GET", extra, s.get(base + extra, timeout=10).status_code)
