// Vitest setup: what the `unipic` entry points do on import, for tests that reach the core's
// modules (sources, manifests) without going through an entry point.
import { registerBuiltInFamilies } from '../../src/families/builtin.js';

registerBuiltInFamilies();
