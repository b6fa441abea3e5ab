"""Calls the demo service a few times over IPv4 and IPv6 and prints what it got back."""
import hashlib
import sys
import urllib.request

port4, port6 = sys.argv[1], sys.argv[2]
for url in [f"http://127.0.0.1:{port4}/hello.txt", f"http://[::1]:{port6}/hello.txt",
            f"http://127.0.0.1:{port4}/blob"]:
    with urllib.request.urlopen(url) as r:
        body = r.read()
    print(f"{r.status} {url} {len(body)} bytes sha256={hashlib.sha256(body).hexdigest()[:16]}")
req = urllib.request.Request(f"http://127.0.0.1:{port4}/echo", data=b"hello through reel")
print("echo:", urllib.request.urlopen(req).read().decode())
