"""Limits on file uploads, applied while the request arrives (issue 26, items 1 and 5).

An ASGI layer in front of the app, for the upload routes only. Before any byte of the body is read it refuses
a client over its rate (429), a client that already has an upload running (429), and a declared length over
the limit (413); while the body streams in it counts the bytes and refuses at the first byte over the limit
(413), so no oversized or refused upload is ever held in memory or on disk. A body within the limit is kept
in memory (it is at most the limit) and handed to the app.
"""

from __future__ import annotations

import json
from collections.abc import Callable

MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and headers around the file's bytes


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class UploadGuard:
    def __init__(self, app, paths: set[str], max_bytes: int, allow: Callable[[str], bool], per_minute: int
                 ) -> None:
        self.app, self.paths, self.max_bytes, self.allow, self.per_minute = app, paths, max_bytes, allow, per_minute
        self.running: set[str] = set()  # clients with an upload in progress

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        limit = self.max_bytes + MULTIPART_OVERHEAD
        if client in self.running:
            await _refuse(send, 429, "one upload at a time: wait for the lookup that is running to finish")
            return
        if not self.allow("upload:" + client):
            await _refuse(send, 429, f"more than {self.per_minute} lookups a minute: wait a minute")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, 413, f"the file is larger than {self.max_bytes:,} bytes: look up a smaller file")
            return
        self.running.add(client)
        try:
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:  # stop reading: the rest of the body is never taken in
                    await _refuse(send, 413, f"the file is larger than {self.max_bytes:,} bytes: look up a "
                                  "smaller file")
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            sent = False

            async def replay():
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
        finally:
            self.running.discard(client)
