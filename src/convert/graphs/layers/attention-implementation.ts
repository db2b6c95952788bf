/**
 * How an attention block is built. `standard`: MatMul, Softmax, MatMul (every runtime has these
 * ops). `fused`: com.microsoft `MultiHeadAttention`, which lets an execution provider use its
 * flash or memory-efficient kernel.
 */
export type AttentionImplementation = 'standard' | 'fused';
