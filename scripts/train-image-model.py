#!/usr/bin/env python3
"""Trains Replica's embedded default image model from data that ships offline.

Data: scikit-learn's bundled digits (1,797 8x8 images, no download), upscaled to 32x32 RGB.
Model: Stable Diffusion 1.x's architecture at small dimensions, in the diffusers layout the
worker's image engine loads — a CLIP text encoder (word-level tokenizer: "a photo of the digit
7" / "seven"), an AutoencoderKL (32x32 images <-> 8x8x4 latents) and a UNet2DConditionModel with
cross-attention — trained with the same noise schedule the worker's DDIM uses, with 10% empty
prompts for classifier-free guidance.

Writes worker/models/digits-sd/ (float16 weights, the VAE decoder only) and DIGESTS, plus
worker/models/digits-sd/preview.png (diffusers' own sampling of every digit) and the digit
templates worker/tests/fixtures/digit-means.png. Deterministic on
one machine kind (seeds, 2 threads); the committed digests are what the worker checks.

Usage: python3 scripts/train-image-model.py [--vae-steps 1500] [--unet-steps 4000] [--means-only]
(needs torch, diffusers, transformers, tokenizers, scikit-learn)
"""
import argparse
import hashlib
import json
import pathlib
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "models" / "digits-sd"
NAMES = "zero one two three four five six seven eight nine".split()
WORDS = "a photo of the digit".split() + NAMES + [str(d) for d in range(10)]


def tokenizer():
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "[UNK]": 2}
    vocab.update({w: i + 3 for i, w in enumerate(WORDS)})
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>", special_tokens=[("<|startoftext|>", 0), ("<|endoftext|>", 1)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
        unk_token="[UNK]", model_max_length=8,
    )
    return tk, fast, len(vocab)


def write_class_means(images, labels):
    """The mean 32x32 image of each digit, side by side: the templates worker/tests use to check
    that a generated digit is recognisable."""
    means = [((images[labels == d].mean(0)[0] + 1) / 2 * 255).round().to(torch.uint8).numpy() for d in range(10)]
    path = OUT.parent.parent / "tests" / "fixtures" / "digit-means.png"
    Image.fromarray(np.concatenate(means, axis=1), "L").save(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vae-steps", type=int, default=1500)
    parser.add_argument("--unet-steps", type=int, default=4000)
    parser.add_argument("--means-only", action="store_true", help="only write the digit templates")
    args = parser.parse_args()
    random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(2)

    digits = load_digits()
    grey = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    images = F.interpolate(grey, size=(32, 32), mode="bilinear", align_corners=False).clamp(0, 1)
    images = (images * 2 - 1).repeat(1, 3, 1, 1)
    labels = torch.tensor(digits.target)
    print(f"{len(images)} digits")
    write_class_means(images, labels)
    if args.means_only:
        return

    tk, fast, vocab_size = tokenizer()
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=(16, 32, 32), layers_per_block=1,
        latent_channels=4, norm_num_groups=8, sample_size=32,
    )
    opt = torch.optim.AdamW(vae.parameters(), lr=1e-3)
    started = time.time()
    for step in range(args.vae_steps):
        batch = images[torch.randint(0, len(images), (32,))]
        posterior = vae.encode(batch).latent_dist
        recon = vae.decode(posterior.sample()).sample
        loss = F.mse_loss(recon, batch) + 1e-6 * posterior.kl().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == args.vae_steps - 1:
            print(f"vae {step} loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)
    vae.eval()
    with torch.no_grad():
        latents = vae.encode(images).latent_dist.mean
    scaling = float(1.0 / latents.std())
    vae.register_to_config(scaling_factor=scaling)
    latents = latents * scaling
    print(f"latents {tuple(latents.shape)}, scaling factor {scaling:.4f}")

    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=8, hidden_act="quick_gelu", bos_token_id=0, eos_token_id=1, pad_token_id=1,
    ))
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32, attention_head_dim=2,
        norm_num_groups=8,
    )
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading")

    def prompt_ids(label):
        if random.random() < 0.1:
            text = ""
        else:
            name = NAMES[label] if random.random() < 0.5 else str(label)
            text = f"a photo of the digit {name}"
        return fast(text, padding="max_length", max_length=8, truncation=True).input_ids

    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    started = time.time()
    for step in range(args.unet_steps):
        for group in opt.param_groups:
            group["lr"] = 1e-3 * min(1.0, (step + 1) / 200)
        idx = torch.randint(0, len(latents), (64,))
        z = latents[idx]
        ids = torch.tensor([prompt_ids(int(labels[i])) for i in idx])
        noise = torch.randn_like(z)
        t = torch.randint(0, 1000, (len(z),))
        noisy = scheduler.add_noise(z, noise, t)
        context = text_encoder(input_ids=ids).last_hidden_state
        loss = F.mse_loss(unet(noisy, t, encoder_hidden_states=context).sample, noise)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 250 == 0 or step == args.unet_steps - 1:
            print(f"unet {step} loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)
    unet.eval()
    text_encoder.eval()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tokenizer").mkdir(exist_ok=True)
    tk.save(str(OUT / "tokenizer" / "tokenizer.json"))
    for name, model in (("text_encoder", text_encoder), ("unet", unet), ("vae", vae)):
        (OUT / name).mkdir(exist_ok=True)
        config = model.config.to_dict() if name == "text_encoder" else dict(model.config)
        config = {k: v for k, v in config.items() if not k.startswith("_")}
        (OUT / name / "config.json").write_text(json.dumps(config, indent=2, default=list, sort_keys=True) + "\n")
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
        if name == "vae":
            state = {k: v for k, v in state.items() if k.startswith(("decoder.", "post_quant_conv."))}
        file = "model.safetensors" if name == "text_encoder" else "diffusion_pytorch_model.safetensors"
        save_file(state, str(OUT / name / file))
    files = sorted(p.relative_to(OUT).as_posix() for p in OUT.rglob("*") if p.is_file() and p.name not in ("DIGESTS", "preview.png"))
    lines = [f"{hashlib.blake2b((OUT / f).read_bytes(), digest_size=32).hexdigest()}  {f}" for f in files]
    (OUT / "DIGESTS").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=fast, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    row = []
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for d in range(10):
            image = pipe(f"a photo of the digit {d}", num_inference_steps=30, guidance_scale=4.0, height=32, width=32,
                         generator=generator, output_type="np").images[0]
            row.append((image * 255).round().astype(np.uint8))
    Image.fromarray(np.concatenate(row, axis=1)).resize((320 * 2, 32 * 2), Image.NEAREST).save(OUT / "preview.png")


if __name__ == "__main__":
    main()
