import { WebOrtBackend } from '../../adapters/web-ort/index.js';
import { describeBackendContract } from './support/contract.js';

describeBackendContract({
  label: 'web-ort on wasm (Node)',
  create: () => new WebOrtBackend(),
  initOptions: { device: 'wasm' },
  expectedName: 'web-ort',
  expectedDevice: 'wasm',
  pathNeedsExternalData: true,
  keptLocation: 'cpu',
});
