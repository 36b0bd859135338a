"""An OpenAI-compatible completions endpoint as the model under probe (httpx; key from an env variable).

Capabilities are detected by asking: `echo` with `logprobs` returns log-probabilities of the prompt's
tokens (vLLM, llama.cpp server and the legacy OpenAI completions API do); otherwise output logprobs, or
top-k only, or nothing. 429, 5xx, timeouts and dropped connections are retried a bounded number of times
with exponential backoff; then the call fails with a message, and a rerun resumes the probe.
"""

from __future__ import annotations

import os
import time

import httpx
import numpy as np

from ascertain.errors import AscertainError
from ascertain.probe.models import ModelInfo, Scored

RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}
PROBE_TEXT = "The quick brown fox jumps over the lazy dog. It was the best of times."


class ApiError(Exception):
    """The endpoint refused a request (a 4xx other than rate limits): not retried."""


class ApiModel:
    def __init__(self, url: str, model: str | None, key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
                 retries: int = 4, backoff: float = 0.5) -> None:
        self.base = url.rstrip("/")
        key = os.environ.get(key_env, "")
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"} if key else {})
        self.retries, self.backoff = retries, backoff
        self.calls = self.retried = 0
        try:
            listed = self._request("GET", "/models", None).get("data", [])
        except ApiError as e:
            raise AscertainError(url, f"is not an OpenAI-compatible API ({e})",
                                 "pass the API's base URL, ending in /v1") from e
        ids = [m.get("id") for m in listed if isinstance(m, dict)]
        if model is None:
            if len(ids) != 1:
                raise AscertainError(url, f"serves {len(ids)} models ({', '.join(map(str, ids[:5]))})",
                                     "name one with --api-model")
            model = ids[0]
        self.model = model
        gen = self._completion({"prompt": PROBE_TEXT, "max_tokens": 1, "temperature": 0})
        self.info = ModelInfo(url, "api", model, gen.get("system_fingerprint") or f"model-id:{model}",
                              self._capability(), {"key_env": key_env if key else None, "models_listed": ids})

    def _request(self, method: str, path: str, body: dict | None) -> dict:
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
            self.calls += 1
            wait = self.backoff * 2 ** attempt
            try:
                r = self.client.request(method, self.base + path, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if r.status_code < 400:
                    return r.json()
                if r.status_code not in RETRYABLE:
                    raise ApiError(f"HTTP {r.status_code}: {r.text[:200]}")
                last = f"HTTP {r.status_code}"
                after = r.headers.get("retry-after", "")
                if after.replace(".", "", 1).isdigit():
                    wait = min(float(after), 60.0)
            if attempt < self.retries:
                time.sleep(wait)
        raise AscertainError(self.base + path, f"did not answer after {self.retries + 1} attempts (last: {last})",
                             "check the endpoint and its rate limits, then run the same command again: "
                             "finished attempts are kept and the probe resumes where it stopped")

    def _completion(self, body: dict) -> dict:
        try:
            return self._request("POST", "/completions", {"model": self.model, **body})
        except ApiError as e:
            raise AscertainError(self.base, f"refused a completion request ({e})",
                                 "check --api-model and the key in the environment variable") from e

    def _capability(self) -> str:
        try:
            if self._echo_logprobs(PROBE_TEXT) is not None:
                return "prompt_logprobs"
            r = self._request("POST", "/completions", {"model": self.model, "prompt": PROBE_TEXT, "max_tokens": 2,
                                                       "temperature": 0, "logprobs": 5})
        except ApiError:
            return "none"
        lp = (r.get("choices") or [{}])[0].get("logprobs") or {}
        if any(v is not None for v in lp.get("token_logprobs") or []):
            return "output_logprobs"
        return "top_k" if lp.get("top_logprobs") else "none"

    def _echo_logprobs(self, prompt: str) -> dict | None:
        try:
            r = self._request("POST", "/completions", {"model": self.model, "prompt": prompt, "max_tokens": 1,
                                                       "temperature": 0, "echo": True, "logprobs": 1})
        except ApiError:
            return None
        lp = (r.get("choices") or [{}])[0].get("logprobs") or {}
        offsets, values = lp.get("text_offset") or [], lp.get("token_logprobs") or []
        if len(values) < 3 or not offsets or sum(v is not None for v in values) < len(values) - 2:
            return None
        return lp

    def generate(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> tuple[str, int]:
        r = self._completion({"prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
                              "seed": seed, "top_p": 1.0})
        choice = (r.get("choices") or [{}])[0]
        return str(choice.get("text", "")), int((r.get("usage") or {}).get("completion_tokens", 0))

    def score(self, text: str, context: str = "") -> Scored:
        lp = self._echo_logprobs(context + text)
        if lp is None:
            raise AscertainError(self.base, "returns no log-probabilities of prompt tokens",
                                 "this test needs an API with echo + logprobs; run reproduction only")
        # the generated token comes last; keep prompt tokens that start inside `text`
        values = [v for o, v in zip(lp["text_offset"], lp["token_logprobs"], strict=False)
                  if o >= len(context) and o < len(context + text) and v is not None]
        return Scored(np.array(values, dtype=np.float64))
