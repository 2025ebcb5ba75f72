#!/usr/bin/env python3
"""Trains Replica's embedded default text model from data that ships offline.

Corpus: the quotations of Debian's `fortunes` package (/usr/share/games/fortunes, BSD-licensed
fortune-mod data; `apt-get install fortunes`), without the ASCII-art files.
Tokenizer: byte-level BPE, 2,048 tokens + <|endoftext|>, trained with Hugging Face tokenizers.
Model: GPT-2 architecture (Hugging Face tensor names, tied LM head, tanh GELU), 4 layers, 192
wide, 6 heads, 128 positions: the same network `worker/src/engines/text.rs` runs.

Writes worker/models/fortunes-gpt/{config.json,tokenizer.json,model.safetensors} (weights in
float16, run in float32) and DIGESTS (blake2-256 of each file). Deterministic on one machine
kind (fixed seeds, 2 threads, deterministic algorithms); another CPU's BLAS may round
differently, so the committed digests are what the worker checks, not a rebuild.

Usage: python3 scripts/train-text-model.py [--steps 6000]   (needs torch, tokenizers, safetensors)
"""
import argparse
import hashlib
import json
import math
import pathlib
import random
import time

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "worker" / "models" / "fortunes-gpt"
FORTUNES = pathlib.Path("/usr/share/games/fortunes")
SKIP = {"art", "ascii-art"}
EOS = "<|endoftext|>"


def corpus():
    quotes = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix or path.name in SKIP or not path.is_file():
            continue
        text = path.read_text(encoding="latin-1")
        for quote in text.split("\n%\n"):
            quote = " ".join(quote.split())
            if 20 <= len(quote) <= 400 and quote.isascii():
                quotes.append(quote)
    return quotes


def train_tokenizer(quotes):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=2048,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tokenizer.train_from_iterator(quotes, trainer)
    tokenizer.add_special_tokens([EOS])
    return tokenizer


class Block(torch.nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = torch.nn.LayerNorm(c, eps=1e-5)
        self.ln_2 = torch.nn.LayerNorm(c, eps=1e-5)
        # Conv1D of GPT-2: weights stored [in, out].
        self.c_attn_w = torch.nn.Parameter(torch.randn(c, 3 * c) * 0.02)
        self.c_attn_b = torch.nn.Parameter(torch.zeros(3 * c))
        self.attn_proj_w = torch.nn.Parameter(torch.randn(c, c) * 0.02)
        self.attn_proj_b = torch.nn.Parameter(torch.zeros(c))
        self.c_fc_w = torch.nn.Parameter(torch.randn(c, 4 * c) * 0.02)
        self.c_fc_b = torch.nn.Parameter(torch.zeros(4 * c))
        self.mlp_proj_w = torch.nn.Parameter(torch.randn(4 * c, c) * 0.02)
        self.mlp_proj_b = torch.nn.Parameter(torch.zeros(c))

    def forward(self, x, mask):
        b, t, c = x.shape
        d = c // self.heads
        q, k, v = (self.ln_1(x) @ self.c_attn_w + self.c_attn_b).split(c, dim=2)
        q, k, v = (y.view(b, t, self.heads, d).transpose(1, 2) for y in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        scores = scores.masked_fill(~mask[:t, :t], float("-inf"))
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + y @ self.attn_proj_w + self.attn_proj_b
        h = torch.nn.functional.gelu(self.ln_2(x) @ self.c_fc_w + self.c_fc_b, approximate="tanh")
        return x + h @ self.mlp_proj_w + self.mlp_proj_b


class Gpt2(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["n_embd"]
        self.wte = torch.nn.Parameter(torch.randn(cfg["vocab_size"], c) * 0.02)
        self.wpe = torch.nn.Parameter(torch.randn(cfg["n_positions"], c) * 0.01)
        self.blocks = torch.nn.ModuleList(Block(c, cfg["n_head"]) for _ in range(cfg["n_layer"]))
        self.ln_f = torch.nn.LayerNorm(c, eps=1e-5)
        n = cfg["n_positions"]
        self.register_buffer("mask", torch.ones(n, n, dtype=torch.bool).tril(), persistent=False)

    def forward(self, ids):
        x = self.wte[ids] + self.wpe[: ids.shape[1]]
        for block in self.blocks:
            x = block(x, self.mask)
        return self.ln_f(x) @ self.wte.T

    def hf_state(self):
        """The weights under Hugging Face GPT-2 names, float16."""
        out = {"wte.weight": self.wte, "wpe.weight": self.wpe, "ln_f.weight": self.ln_f.weight, "ln_f.bias": self.ln_f.bias}
        for i, b in enumerate(self.blocks):
            p = f"h.{i}."
            out.update({
                p + "ln_1.weight": b.ln_1.weight, p + "ln_1.bias": b.ln_1.bias,
                p + "ln_2.weight": b.ln_2.weight, p + "ln_2.bias": b.ln_2.bias,
                p + "attn.c_attn.weight": b.c_attn_w, p + "attn.c_attn.bias": b.c_attn_b,
                p + "attn.c_proj.weight": b.attn_proj_w, p + "attn.c_proj.bias": b.attn_proj_b,
                p + "mlp.c_fc.weight": b.c_fc_w, p + "mlp.c_fc.bias": b.c_fc_b,
                p + "mlp.c_proj.weight": b.mlp_proj_w, p + "mlp.c_proj.bias": b.mlp_proj_b,
            })
        return {k: v.detach().to(torch.float16).contiguous() for k, v in out.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6000)
    args = parser.parse_args()
    random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)

    quotes = corpus()
    print(f"{len(quotes)} quotations, {sum(map(len, quotes))} characters")
    tokenizer = train_tokenizer(quotes)
    eos = tokenizer.token_to_id(EOS)
    stream = []
    for quote in quotes:
        stream += tokenizer.encode(quote).ids + [eos]
    data = torch.tensor(stream, dtype=torch.long)
    print(f"{len(stream)} tokens, vocabulary {tokenizer.get_vocab_size()}")

    cfg = {"vocab_size": tokenizer.get_vocab_size(), "n_positions": 128, "n_embd": 192, "n_layer": 4,
           "n_head": 6, "layer_norm_epsilon": 1e-5, "eos_token_id": eos}
    model = Gpt2(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    context, batch = cfg["n_positions"], 8
    started = time.time()
    for step in range(args.steps):
        lr = 3e-3 * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, len(data) - context - 1, (batch,))
        x = torch.stack([data[s : s + context] for s in starts])
        y = torch.stack([data[s + 1 : s + context + 1] for s in starts])
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, cfg["vocab_size"]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(OUT / "tokenizer.json"))
    (OUT / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    save_file(model.hf_state(), str(OUT / "model.safetensors"))
    digests = []
    for name in ["config.json", "model.safetensors", "tokenizer.json"]:
        digest = hashlib.blake2b((OUT / name).read_bytes(), digest_size=32).hexdigest()
        digests.append(f"{digest}  {name}")
    (OUT / "DIGESTS").write_text("\n".join(digests) + "\n")
    print("\n".join(digests))

    # A taste, greedy, with the float32 weights before rounding to float16.
    model.eval()
    with torch.no_grad():
        ids = tokenizer.encode("The secret of").ids
        for _ in range(30):
            nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
            if nxt == eos:
                break
            ids.append(nxt)
    print(tokenizer.decode(ids))


if __name__ == "__main__":
    main()
