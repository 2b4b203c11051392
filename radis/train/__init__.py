"""Training: the loop, LoRA, the fused LoRA kernel, checkpoints, distributed launch, logging."""
