#!/usr/bin/env python3
"""Reference output of a tiny Stable Diffusion UNet, made by diffusers itself.

Writes worker/tests/fixtures/tiny-unet/: config.json and diffusion_pytorch_model.safetensors of
a diffusers `UNet2DConditionModel` with SD 1.x's block layout at tiny dimensions and seeded
random weights, plus reference.safetensors with a latent, a timestep, text hidden states and
the predicted noise. `worker/tests/unet.rs` runs the tch implementation on the same inputs.

Usage: python3 scripts/unet-reference.py   (needs torch and diffusers in the venv)
"""
import json
import pathlib

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "tests" / "fixtures" / "tiny-unet"

torch.manual_seed(0)
unet = UNet2DConditionModel(
    sample_size=8,
    in_channels=4,
    out_channels=4,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(32, 64),
    layers_per_block=1,
    cross_attention_dim=16,
    attention_head_dim=2,
    norm_num_groups=8,
).eval()
with torch.no_grad():
    for name, p in unet.named_parameters():
        p.add_(torch.randn_like(p) * 0.05)
OUT.mkdir(parents=True, exist_ok=True)
keys = ["in_channels", "out_channels", "block_out_channels", "down_block_types", "up_block_types",
        "layers_per_block", "cross_attention_dim", "attention_head_dim", "norm_num_groups"]
(OUT / "config.json").write_text(json.dumps({k: unet.config[k] for k in keys}, indent=2, default=list) + "\n")
save_file({k: v.contiguous() for k, v in unet.state_dict().items()}, str(OUT / "diffusion_pytorch_model.safetensors"))
latent = torch.randn(2, 4, 8, 8)
timestep = torch.tensor(981)
context = torch.randn(2, 5, 16)
with torch.no_grad():
    noise = unet(latent, timestep, encoder_hidden_states=context).sample
save_file({"latent": latent, "timestep": timestep.reshape(1).float(), "context": context, "noise": noise.contiguous()},
          str(OUT / "reference.safetensors"))
print(noise.shape, float(noise.abs().mean()))
