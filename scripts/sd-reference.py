#!/usr/bin/env python3
"""A tiny Stable Diffusion 1.x pipeline and diffusers' own output of it.

Writes worker/tests/fixtures/tiny-sd/ in the diffusers layout (text_encoder/, tokenizer/
tokenizer.json, unet/, vae/) with SD 1.x's architecture at tiny dimensions and seeded random
weights, plus reference.safetensors: initial latents and the images diffusers'
StableDiffusionPipeline (DDIM as SD 1.5 configures it, classifier-free guidance) makes from them
for a prompt and a negative prompt. `worker/tests/image_engine.rs` runs the tch pipeline on the
same latents and compares.

Usage: python3 scripts/sd-reference.py   (needs torch, diffusers, transformers, tokenizers)
"""
import json
import pathlib

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast

OUT = pathlib.Path(__file__).resolve().parent.parent / "worker" / "tests" / "fixtures" / "tiny-sd"
PROMPT, NEGATIVE = "a photo of the digit seven", "blurry"
WORDS = "a photo of the digit zero one two three four five six seven eight nine blurry red blue".split()

torch.manual_seed(0)
vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "[UNK]": 2}
vocab.update({w: i + 3 for i, w in enumerate(WORDS)})
tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
tk.normalizer = normalizers.Lowercase()
tk.pre_tokenizer = pre_tokenizers.Whitespace()
tk.post_processor = processors.TemplateProcessing(
    single="<|startoftext|> $A <|endoftext|>", special_tokens=[("<|startoftext|>", 0), ("<|endoftext|>", 1)]
)
tokenizer = PreTrainedTokenizerFast(
    tokenizer_object=tk, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
    unk_token="[UNK]", model_max_length=8,
)
text_encoder = CLIPTextModel(CLIPTextConfig(
    vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
    max_position_embeddings=8, hidden_act="quick_gelu", bos_token_id=0, eos_token_id=1, pad_token_id=1,
)).eval()
unet = UNet2DConditionModel(
    sample_size=4, in_channels=4, out_channels=4,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(16, 32), layers_per_block=1, cross_attention_dim=16, attention_head_dim=2, norm_num_groups=8,
).eval()
vae = AutoencoderKL(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
    up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), block_out_channels=(16, 32), layers_per_block=1,
    latent_channels=4, norm_num_groups=4, sample_size=8,
).eval()
with torch.no_grad():
    for model in (text_encoder, unet, vae):
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * 0.05)
scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading")
pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                               safety_checker=None, feature_extractor=None, requires_safety_checker=False)

OUT.mkdir(parents=True, exist_ok=True)
(OUT / "tokenizer").mkdir(exist_ok=True)
tk.save(str(OUT / "tokenizer" / "tokenizer.json"))
for name, model in (("text_encoder", text_encoder), ("unet", unet), ("vae", vae)):
    (OUT / name).mkdir(exist_ok=True)
    config = {k: v for k, v in model.config.to_dict().items() if not k.startswith("_")} if name == "text_encoder" \
        else {k: v for k, v in model.config.items() if not k.startswith("_")}
    (OUT / name / "config.json").write_text(json.dumps(config, indent=2, default=list) + "\n")
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if name == "vae":
        state = {k: v for k, v in state.items() if k.startswith(("decoder.", "post_quant_conv."))}
    file = "model.safetensors" if name == "text_encoder" else "diffusion_pytorch_model.safetensors"
    save_file(state, str(OUT / name / file))

latents = torch.randn(2, 4, 4, 4)
with torch.no_grad():
    images = pipe(PROMPT, negative_prompt=NEGATIVE, num_inference_steps=4, guidance_scale=7.5, height=8, width=8,
                  num_images_per_prompt=2, latents=latents, output_type="np").images
save_file({"latents": latents, "images": torch.from_numpy(images).contiguous()}, str(OUT / "reference.safetensors"))
print(images.shape, float(images.mean()))
