"""Tiny UniPic-3 configurations. The transformer is diffusers' own test config; the VAE keeps the
published structure (dim_mult [1,2,4,4], 2 res blocks, temporal downsample [F,T,T], z_dim 16) at a
narrow base width so its checkpoint stays small, with non-trivial latents mean/std."""

TRANSFORMER = dict(patch_size=2, in_channels=16, out_channels=4, num_layers=2, attention_head_dim=16,
                   num_attention_heads=3, joint_attention_dim=16, guidance_embeds=False, axes_dims_rope=(8, 4, 4))

# diffusers' QwenImageEditPlus pipeline-test VAE: only used for the 3-D vs 2-D proof (its 4 M params
# would be 8 MB of bf16 fixture).
VAE_DF_TEST = dict(base_dim=24, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1, temperal_downsample=[False, True],
                   latents_mean=[0.0] * 4, latents_std=[1.0] * 4)

# Published structure; base_dim 8 instead of the brief's 16 (3.6 M params = 7.2 MB bf16 would break
# the fixture budget; no op depends on the width except √C in the RMS norm and 1/√C in attention).
VAE_FULL = dict(base_dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                temperal_downsample=[False, True, True],
                latents_mean=[-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134,
                              -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
                latents_std=[2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526,
                             2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160])

# Qwen-Image scheduler_config.json, shared by the teacher and the distilled repos.
SCHEDULER = dict(base_image_seq_len=256, max_image_seq_len=8192, base_shift=0.5, max_shift=0.9, shift=1.0,
                 shift_terminal=0.02, time_shift_type="exponential", use_dynamic_shifting=True,
                 num_train_timesteps=1000)

# Packed (h/2, w/2) grids: target first, then the references. Odd heights exercise the centring.
TARGET_GRID = (3, 4)
REFERENCE_GRIDS = [(2, 3), (3, 3)]
TEXT_LENGTH = 5
