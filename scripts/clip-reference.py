#!/usr/bin/env python3
"""Reference output of a tiny CLIP text encoder, made by Hugging Face transformers itself.

Writes worker/tests/fixtures/tiny-clip/: config.json and model.safetensors (tensor names with
the `text_model.` prefix, as in Stable Diffusion's text_encoder/) of a `CLIPTextModel` with tiny
dimensions and seeded random weights, plus reference.safetensors with token ids and the
model's last_hidden_state. `worker/tests/clip.rs` runs the tch implementation on the same ids.

Usage: python3 scripts/clip-reference.py   (needs torch and transformers in the venv)
"""
import json
import pathlib

import torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "tests" / "fixtures" / "tiny-clip"

torch.manual_seed(0)
config = CLIPTextConfig(
    vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    max_position_embeddings=16, hidden_act="quick_gelu", bos_token_id=98, eos_token_id=99, pad_token_id=99,
)
model = CLIPTextModel(config).eval()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.add_(torch.randn_like(p) * 0.1)
OUT.mkdir(parents=True, exist_ok=True)
keys = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "max_position_embeddings", "hidden_act", "layer_norm_eps"]
(OUT / "config.json").write_text(json.dumps({k: getattr(config, k) for k in keys}, indent=2) + "\n")
state = {k if k.startswith("text_model.") else f"text_model.{k}": v.contiguous() for k, v in model.state_dict().items()}
save_file(state, str(OUT / "model.safetensors"))
ids = torch.tensor([[98, 5, 17, 42, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99]])
with torch.no_grad():
    hidden = model(input_ids=ids).last_hidden_state
save_file({"ids": ids.contiguous(), "hidden": hidden.contiguous()}, str(OUT / "reference.safetensors"))
print(hidden.shape, float(hidden.abs().mean()))
