"""uvicorn's HTTP protocol with TCP_NODELAY on every connection.

With `--workers N` uvicorn binds the listening socket itself with protocol number 0, and asyncio only turns
Nagle's algorithm off on sockets whose protocol is TCP by number; a response's headers and body, written
separately, then wait for the client's delayed ACK: about 40 ms on every request, whatever the handler costs
(measured: 48-52 ms for a lookup that takes 3 ms in-process, 8 ms with one worker).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
