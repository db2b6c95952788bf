"""The tiny Kontext configs (after diffusers' SD3 pipeline tests) and the pipeline constants that
stay at their real values (scheduler shift, VAE scaling, tokenizer lengths, the official scripts' defaults)."""
from __future__ import annotations

from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = REPOSITORY_ROOT / "test" / "fixtures" / "kontext"
SHARED_FIXTURES = REPOSITORY_ROOT.parent.parent / "shared" / "fixtures"

SEED = 20261206

# Transformer: dual attention in blocks 0-1, RMS qk-norm, context_pre_only last block, and a
# 24x24 position table so that every size used here is a real crop.
TRANSFORMER = dict(
    sample_size=32,
    patch_size=2,
    in_channels=16,
    num_layers=3,
    attention_head_dim=8,
    num_attention_heads=4,
    joint_attention_dim=32,
    caption_projection_dim=32,
    pooled_projection_dim=24,
    out_channels=16,
    pos_embed_max_size=24,
    dual_attention_layers=(0, 1),
    qk_norm="rms_norm",
)

# Four levels keep the ×8 scale factor; scaling and shift are SD3's.
VAE = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=(8, 8, 16, 16),
    layers_per_block=1,
    latent_channels=16,
    norm_num_groups=4,
    scaling_factor=1.5305,
    shift_factor=0.0609,
    use_quant_conv=False,
    use_post_quant_conv=False,
    sample_size=64,
)

# bos/eos ids 0/2 as in the published CLIP configs: transformers then pools at argmax(input_ids),
# i.e. the first <|endoftext|> (49407, the largest id).
CLIP_L = dict(
    hidden_size=8, intermediate_size=16, num_hidden_layers=3, num_attention_heads=2, projection_dim=8,
    vocab_size=49408, max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5,
    bos_token_id=0, eos_token_id=2, pad_token_id=1,
)
CLIP_G = dict(
    hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2, projection_dim=16,
    vocab_size=49408, max_position_embeddings=77, hidden_act="gelu", layer_norm_eps=1e-5,
    bos_token_id=0, eos_token_id=2, pad_token_id=1,
)
T5 = dict(
    d_model=32, d_ff=48, d_kv=8, num_heads=4, num_layers=2, feed_forward_proj="gated-gelu",
    relative_attention_num_buckets=32, relative_attention_max_distance=128, vocab_size=32128,
    layer_norm_epsilon=1e-6, dropout_rate=0.0, is_encoder_decoder=True, decoder_start_token_id=0,
    eos_token_id=1, pad_token_id=0, tie_word_embeddings=False,
)

SCHEDULER = dict(num_train_timesteps=1000, shift=3.0)

# Pipeline constants (real values).
CLIP_MAX_LENGTH = 77
T5_MAX_LENGTH = 256
GUIDANCE_SCALE = 3.5
VAE_SCALING = 1.5305
VAE_SHIFT = 0.0609
EDIT_IMAGE_SIZE = 512
EDIT_FACTOR = 32
EDIT_DEFAULT_NEGATIVE = (
    "blurry, low quality, low resolution, distorted, deformed, broken content, missing parts, "
    "damaged details, artifacts, glitch, noise, pixelated, grainy, compression artifacts, bad "
    "composition, wrong proportion, incomplete editing, unfinished, unedited areas."
)
TINY_STEPS = 3
