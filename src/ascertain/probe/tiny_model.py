"""A small causal LM trained in seconds on CPU, saved as a Hugging Face folder.

Calibration, the demo and the tests train one on texts they choose, so which texts are members is known
exactly; the folder then goes through the same loader as any local model. Seeded: the same texts and
seed give the same weights on the same torch build.
"""

from __future__ import annotations

import random
from pathlib import Path

BOS = "<|endoftext|>"


def train_tiny_lm(texts: list[str], out: Path, seed: int = 0, steps: int = 300, vocab_size: int = 512,
                  width: int = 64, layers: int = 2, block: int = 128, batch: int = 16, lr: float = 3e-3,
                  on_step=None) -> Path:
    """Train a GPT-2-shaped model (byte-level BPE tokenizer trained on the same texts) and save it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is faster than two contending ones
    torch.manual_seed(seed)
    random.seed(seed)
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[BOS],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token=BOS, eos_token=BOS)
    bos = tok.bos_token_id
    stream: list[int] = []
    for t in texts:
        stream += [bos] + tok(t, add_special_tokens=False).input_ids
    data = torch.tensor(stream + [bos] * (block + 1))
    # n_positions = the trained window: longer prompts are cut to it (untrained positions would be noise)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=block, n_embd=width, n_layer=layers,
                     n_head=4, bos_token_id=bos, eos_token_id=bos, pad_token_id=bos, resid_pdrop=0.0, embd_pdrop=0.0,
                     attn_pdrop=0.0, loss_type="ForCausalLM")
    model = GPT2LMHeadModel(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for step in range(steps):
        starts = torch.randint(0, max(1, len(stream) - 1), (batch,), generator=gen)
        x = torch.stack([data[s:s + block] for s in starts.tolist()])
        for g in opt.param_groups:  # linear decay: the last steps settle what was memorized
            g["lr"] = lr * (1 - step / steps)
        loss = model(x, attention_mask=torch.ones_like(x), labels=x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step and (step % 25 == 0 or step == steps - 1):
            on_step(step, float(loss.detach()))
    model.eval()
    torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
