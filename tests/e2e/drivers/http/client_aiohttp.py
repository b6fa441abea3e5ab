"""The driver matrix's HTTP scenario with aiohttp: client_aiohttp.py BASE [EXTRA_PATH]."""
import asyncio
import sys

import aiohttp


async def main(base, extra):
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        async with s.get(base + "/items/42") as r:
            print("GET /items/42", r.status, await r.text())
        async with s.post(base + "/echo", json={"word": "hello", "n": 7}) as r:
            print("POST /echo", r.status, await r.text())
        async with s.get(base + "/missing") as r:
            print("GET /missing", r.status, await r.text())
        async with s.get(base + "/headers") as r:
            trace = r.headers.get("X-Reel-Trace", "-")
            print("GET /headers", r.status, await r.text(), "x-reel-trace=" + trace)
        if extra:
            async with s.get(base + extra) as r:
                print("GET", extra, r.status)


asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
