"""A minimal OpenAI-compatible completions server over a local model (127.0.0.1), standard library only.

It serves /v1/models and /v1/completions (prompt, max_tokens, temperature, seed, echo, logprobs), so a
local model can be probed through exactly the code path used for a remote API, and the API client is
tested against a real server. `hook(handler)` may answer a request itself (tests: rate limits, outages,
malformed answers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_model(model, name: str = "local-model", port: int = 0,
                hook: Callable[[BaseHTTPRequestHandler], bool] | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Start the server in a thread; returns it and its base URL (…/v1). Stop it with .shutdown()."""
    lock = threading.Lock()  # one model call at a time

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, code: int, obj: dict) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if hook and hook(self):
                return
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            self.body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if hook and hook(self):  # the hook sees the parsed request as handler.body
                return
            if self.path.rstrip("/") != "/v1/completions":
                self._send(404, {"error": {"message": "not found"}})
                return
            with lock:
                self._send(200, complete(model, name, self.body))

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def complete(model, name: str, req: dict) -> dict:
    prompt = str(req.get("prompt", ""))
    text, n = model.generate(prompt, int(req.get("max_tokens", 16)), float(req.get("temperature", 1.0)),
                             int(req.get("seed", 0)))
    choice: dict = {"index": 0, "text": text, "finish_reason": "length", "logprobs": None}
    if req.get("logprobs") is not None:
        lp: dict = {"tokens": [], "token_logprobs": [], "text_offset": [], "top_logprobs": []}
        if req.get("echo"):
            enc = model.tok(prompt, add_special_tokens=False, return_offsets_mapping=True)
            scored = model.score(prompt).logprobs.tolist()
            lp["tokens"] = [prompt[a:b] for a, b in enc.offset_mapping]
            lp["text_offset"] = [a for a, _ in enc.offset_mapping]
            lp["token_logprobs"] = ([None] * (len(lp["tokens"]) - len(scored))) + scored
            choice["text"] = prompt + text
        full = model.score(text, prompt).logprobs.tolist() if text else []
        lp["token_logprobs"] += full
        lp["tokens"] += [""] * len(full)
        lp["text_offset"] += [len(prompt) + 1] * len(full)
        choice["logprobs"] = lp
    return {"id": "cmpl-local", "object": "text_completion", "model": name, "system_fingerprint": "local-serve",
            "choices": [choice], "usage": {"prompt_tokens": 0, "completion_tokens": n, "total_tokens": n}}
