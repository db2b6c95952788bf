export {
  MockBackend,
  type MockBackendOptions,
  type MockRunDelay,
  type MockRunFailure,
  type MockRunRecord,
  type MockSessionRecord,
} from './mock-backend.js';
export type { MockGraphDefinition, MockGraphFunction, MockRunContext } from './mock-session.js';
export { MockTensor } from './mock-tensor.js';
