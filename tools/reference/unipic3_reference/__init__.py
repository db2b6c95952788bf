"""PyTorch oracle for the UniPic-3 family (Qwen-Image-Edit architecture): tiny checkpoints in the
published layouts and golden tensors for the TypeScript port (dev tool only)."""
