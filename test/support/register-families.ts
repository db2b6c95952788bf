// Vitest setup: what the Node `unipic` entry point does on import (built-in families, local file
// access), for tests that reach the core's modules (sources, manifests, images) without it.
import { setHostFileAccess } from '../../src/core/image/host-files.js';
import { registerBuiltInFamilies } from '../../src/families/builtin.js';
import { nodeFileAccess } from '../../src/platform/node-file-access.js';

registerBuiltInFamilies();
setHostFileAccess(nodeFileAccess);
