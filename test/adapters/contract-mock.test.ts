import { MockBackend } from '../../src/testing/index.js';
import { describeBackendContract } from './support/contract.js';
import { CONTRACT_GRAPH, contractMockGraph } from './support/contract-fixture.js';

describeBackendContract({
  label: 'mock',
  create: () => new MockBackend({ graphs: { [CONTRACT_GRAPH]: contractMockGraph } }),
  expectedName: 'mock',
  expectedDevice: 'cpu',
  pathNeedsExternalData: false,
  keptLocation: 'device',
});
