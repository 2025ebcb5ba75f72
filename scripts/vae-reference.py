#!/usr/bin/env python3
"""Reference output of a tiny Stable Diffusion VAE decoder, made by diffusers itself.

Writes worker/tests/fixtures/tiny-vae/: config.json and diffusion_pytorch_model.safetensors of a
diffusers `AutoencoderKL` with tiny dimensions and seeded random weights, plus
reference.safetensors holding a latent and diffusers' `decode` of it. `worker/tests/vae.rs`
decodes the same latent with the tch implementation (engines/vae.rs) and compares, so the
architecture, tensor names and numerics are checked against the reference implementation.

Usage: python3 scripts/vae-reference.py   (needs torch and diffusers in the venv)
"""
import json
import pathlib

import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "tests" / "fixtures" / "tiny-vae"

torch.manual_seed(0)
vae = AutoencoderKL(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
    up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
    block_out_channels=(16, 32),
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=4,
    sample_size=16,
).eval()
# Random weights everywhere (norms included) so that every tensor matters.
with torch.no_grad():
    for name, p in vae.named_parameters():
        p.copy_(torch.randn_like(p) * (0.2 if p.dim() > 1 else 0.1) + (1.0 if name.endswith("norm1.weight") else 0.0))
OUT.mkdir(parents=True, exist_ok=True)
config = {k: v for k, v in vae.config.items() if not k.startswith("_")}
(OUT / "config.json").write_text(json.dumps(config, indent=2, default=list) + "\n")
decoder = {k: v.contiguous() for k, v in vae.state_dict().items() if k.startswith(("decoder.", "post_quant_conv."))}
save_file(decoder, str(OUT / "diffusion_pytorch_model.safetensors"))
latent = torch.randn(1, 4, 8, 8)
with torch.no_grad():
    image = vae.decode(latent / vae.config.scaling_factor).sample
save_file({"latent": latent.contiguous(), "image": image.contiguous()}, str(OUT / "reference.safetensors"))
print(image.shape, float(image.abs().mean()))
