"""An OpenAI-compatible completions endpoint as the model under probe (httpx; key from an env variable).

Capabilities are detected by asking: `echo` with `logprobs` returns log-probabilities of the prompt's
tokens (vLLM, llama.cpp server and the legacy OpenAI completions API do); otherwise output logprobs, or
top-k only, or nothing. 429, 5xx, timeouts, dropped connections and malformed answers are retried a bounded
number of times with exponential backoff, or after the wait the server asks for (Retry-After, in seconds or as
an HTTP date); then the call fails with a message naming the endpoint and the fix, and a rerun resumes the probe.
"""

from __future__ import annotations

import email.utils
import os
import time

import httpx
import numpy as np

from ascertain.errors import AscertainError
from ascertain.probe.model_info import ModelInfo, Scored

RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}
PROBE_TEXT = "The quick brown fox jumps over the lazy dog. It was the best of times."
MAX_WAIT = 60.0  # seconds: a Retry-After longer than this ends the call instead of stalling the probe
RESUME = "run the same command again: finished attempts are kept and the probe resumes where it stopped"


class ApiError(Exception):
    """The endpoint refused a request (a 4xx other than rate limits): not retried."""


class ApiModel:
    def __init__(self, url: str, model: str | None, key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
                 retries: int = 4, backoff: float = 0.5) -> None:
        self.base = url.rstrip("/")
        key = os.environ.get(key_env, "")
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"} if key else {})
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.calls = self.retried = 0
        self.waited = 0.0  # seconds slept between attempts (backoff and Retry-After)
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
            except httpx.TimeoutException as e:
                last = f"no answer within {self.timeout:g} s ({type(e).__name__})"
            except httpx.TransportError as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if r.status_code < 400:
                    try:
                        data = r.json()
                    except ValueError:
                        data = None
                    if isinstance(data, dict):
                        return data
                    last = f"HTTP {r.status_code} with a body that is not a JSON object: {r.text[:80]!r}"
                elif r.status_code not in RETRYABLE:
                    raise ApiError(f"HTTP {r.status_code}: {r.text[:200]}")
                else:
                    last = f"HTTP {r.status_code}"
                    asked = retry_after(r.headers.get("retry-after"))
                    if asked is not None and asked > MAX_WAIT:
                        raise AscertainError(self.base + path, f"asks to wait {asked:g} s before the next request "
                                             f"(Retry-After), more than {MAX_WAIT:g} s",
                                             f"wait, or raise the endpoint's rate limit, then {RESUME}")
                    if asked is not None:
                        wait = asked
                        last += f", Retry-After {asked:g} s"
            if attempt < self.retries:
                time.sleep(wait)
                self.waited += wait
        raise AscertainError(self.base + path, f"did not answer after {self.retries + 1} attempts (last: {last})",
                             "check that the endpoint is up and its rate limits (or pass a larger --timeout / "
                             f"--retries), then {RESUME}")

    def _completion(self, body: dict) -> dict:
        try:
            r = self._request("POST", "/completions", {"model": self.model, **body})
        except ApiError as e:
            raise AscertainError(self.base, f"refused a completion request ({e})",
                                 "check --api-model and the key in the environment variable") from e
        choices = r.get("choices")
        if not (isinstance(choices, list) and choices and isinstance(choices[0], dict)
                and isinstance(choices[0].get("text"), str)):
            # an empty continuation stored as a failed reproduction would understate the model: refuse it
            raise AscertainError(self.base + "/completions", f"answered without choices[0].text ({str(r)[:120]})",
                                 f"point --model at an OpenAI-compatible completions API (…/v1), then {RESUME}")
        return r

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
        return r["choices"][0]["text"], int((r.get("usage") or {}).get("completion_tokens", 0))

    def score(self, text: str, context: str = "") -> Scored:
        lp = self._echo_logprobs(context + text)
        if lp is None:
            raise AscertainError(self.base, "returns no log-probabilities of prompt tokens",
                                 "this test needs an API with echo + logprobs; run reproduction only")
        # the generated token comes last; keep prompt tokens that start inside `text`
        values = [v for o, v in zip(lp["text_offset"], lp["token_logprobs"], strict=False)
                  if o >= len(context) and o < len(context + text) and v is not None]
        return Scored(np.array(values, dtype=np.float64))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
