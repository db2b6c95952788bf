/**
 * The time limit for tests that take 12–23 s here: vitest's 60 s default is a hang guard they
 * could come near on a loaded 2-core CI machine. Only a guard: no test asserts on time.
 */
export const HANG_GUARD_MS = 180_000;
