import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { describeBackendContract } from './support/contract.js';

describeBackendContract({
  label: 'node-ort on CPU',
  create: () => new NodeOrtBackend(),
  initOptions: { device: 'cpu' },
  expectedName: 'node-ort',
  expectedDevice: 'cpu',
  pathNeedsExternalData: false,
  keptLocation: 'cpu',
});
