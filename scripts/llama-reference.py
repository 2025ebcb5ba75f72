#!/usr/bin/env python3
"""A tiny Llama-architecture text model and Hugging Face transformers' own output of it.

Writes worker/tests/fixtures/tiny-llama/: config.json, model.safetensors (Hugging Face tensor
names) and tokenizer.json (the embedded fortunes-gpt tokenizer) of a `LlamaForCausalLM` with
tiny dimensions, grouped-query attention (4 query heads, 2 key/value heads), RoPE and seeded
random weights, plus reference.safetensors: the prompt's token ids, the logits of every
position, and the tokens of greedy decoding. `worker/tests/text_engine.rs` loads the directory
through the worker's text engine and compares.

Usage: python3 scripts/llama-reference.py   (needs torch, transformers and tokenizers)
"""
import json
import pathlib
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "worker" / "tests" / "fixtures" / "tiny-llama"
TOKENIZER = ROOT / "worker" / "models" / "fortunes-gpt" / "tokenizer.json"
PROMPT = "Love is"

tokenizer = Tokenizer.from_file(str(TOKENIZER))
vocab = tokenizer.get_vocab_size(with_added_tokens=True)
eos = tokenizer.token_to_id("<|endoftext|>")

torch.manual_seed(0)
config = LlamaConfig(
    vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
    tie_word_embeddings=False, bos_token_id=eos, eos_token_id=eos, initializer_range=0.2,
)
model = LlamaForCausalLM(config).eval()
with torch.no_grad():
    # Norm weights start at one; move them so that they matter.
    for name, p in model.named_parameters():
        if "norm" in name:
            p.add_(torch.randn_like(p) * 0.1)

OUT.mkdir(parents=True, exist_ok=True)
keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "rope_parameters",
        "tie_word_embeddings", "bos_token_id", "eos_token_id", "hidden_act"]
full = config.to_dict()
# As transformers 5 writes it (RoPE under rope_parameters; older files have rope_theta).
(OUT / "config.json").write_text(json.dumps({k: full[k] for k in keys}, indent=2) + "\n")
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(OUT / "model.safetensors"))
shutil.copy(TOKENIZER, OUT / "tokenizer.json")

ids = torch.tensor([tokenizer.encode(PROMPT, add_special_tokens=False).ids])
with torch.no_grad():
    logits = model(ids).logits[0]
    generated = model.generate(ids, max_new_tokens=16, do_sample=False, num_beams=1, eos_token_id=eos,
                               pad_token_id=eos, attention_mask=torch.ones_like(ids))[0, ids.shape[1]:]
generated = generated[generated != eos] if (generated == eos).any() else generated
save_file({"input_ids": ids[0].contiguous(), "logits": logits.contiguous(), "greedy": generated.contiguous()},
          str(OUT / "reference.safetensors"))
print(ids.tolist(), generated.tolist())
