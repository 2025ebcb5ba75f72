#!/usr/bin/env python3
"""A Stable Diffusion 1.x model directory with seeded random weights, at mid-size dimensions.

For determinism checks on a GPU (`replica-worker doctor-image --model-dir DIR`): SD 1.5's
topology (four UNet levels, two ResNet layers per block, cross-attention in the first three,
a four-level VAE decoder with its mid attention) at a fraction of its width, so the CPU
reference run stays in seconds while the GPU runs real-sized convolutions and attention.
The weights are random (seed 0), not trained: the images are structured noise, which is what
a determinism check needs, and ~130 M parameters are made here instead of downloaded.

Usage: python3 scripts/random-sd-model.py OUT_DIR   (needs torch, diffusers, transformers)
"""
import json
import pathlib
import shutil
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

out = pathlib.Path(sys.argv[1])
tokenizer = pathlib.Path(__file__).resolve().parent.parent / "worker" / "models" / "digits-sd" / "tokenizer"
vocab_size = len(json.loads((tokenizer / "tokenizer.json").read_text())["model"]["vocab"])

torch.manual_seed(0)
text_encoder = CLIPTextModel(CLIPTextConfig(
    vocab_size=vocab_size, hidden_size=512, intermediate_size=2048, num_hidden_layers=6, num_attention_heads=8,
    max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=0, eos_token_id=1, pad_token_id=1,
)).eval()
unet = UNet2DConditionModel(
    sample_size=32, in_channels=4, out_channels=4,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(128, 256, 512, 512), layers_per_block=2, cross_attention_dim=512, attention_head_dim=8,
    norm_num_groups=32,
).eval()
vae = AutoencoderKL(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(64, 128, 256, 256), layers_per_block=2,
    latent_channels=4, norm_num_groups=32, sample_size=256,
).eval()
with torch.no_grad():
    # diffusers zero-initialises some output layers; a little noise everywhere makes every
    # layer matter.
    for model in (text_encoder, unet, vae):
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)

shutil.copytree(tokenizer, out / "tokenizer", dirs_exist_ok=True)
for name, model in (("text_encoder", text_encoder), ("unet", unet), ("vae", vae)):
    (out / name).mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict() if name == "text_encoder" else dict(model.config)
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    (out / name / "config.json").write_text(json.dumps(config, indent=2, default=list) + "\n")
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if name == "vae":
        state = {k: v for k, v in state.items() if k.startswith(("decoder.", "post_quant_conv."))}
    file = "model.safetensors" if name == "text_encoder" else "diffusion_pytorch_model.safetensors"
    save_file(state, str(out / name / file))
params = sum(p.numel() for m in (text_encoder, unet, vae) for p in m.parameters())
print(f"{out}: {params / 1e6:.0f} M parameters")
