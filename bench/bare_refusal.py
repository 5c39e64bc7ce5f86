"""The machine's floor under a refusal, for bench/flash_sale.py: a bare asyncio server
that reads each request and answers the same 409 `sold_out`, with no framework, no
Redis and no token. No server written in Python answers the last of N buyers released
at once sooner than this on this machine, whatever it does for them.

    python -m bench.bare_refusal PORT   (prints "ready" once it listens)
"""
from __future__ import annotations

import asyncio
import json
import re
import sys

BODY = json.dumps({"error": {"code": "sold_out", "message": "手慢了，已抢光"}}, ensure_ascii=False).encode()
ANSWER = (b"HTTP/1.1 409 CONFLICT\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
          b"Connection: close\r\n\r\n" % len(BODY)) + BODY
LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = LENGTH.search(head)
        if length:
            await reader.readexactly(min(int(length.group(1)), 4096))
        writer.write(ANSWER)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
