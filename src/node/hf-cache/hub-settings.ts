import type { HubSettings } from '../../core/hub/hub-client.js';
import type { HubOptions } from '../../core/hub/hub-options.js';
import { DEFAULT_NETWORK_OPTIONS, type NetworkOptions } from '../../core/sources/network-options.js';
import { hubEnvironment, type HubEnvironment } from './hub-environment.js';

export interface NodeHubInputs {
  readonly hub?: HubOptions;
  readonly network?: Partial<NetworkOptions>;
  readonly fetch?: typeof fetch;
  /** The environment to read HF_* from (default `process.env`; tests pass their own). */
  readonly environment?: NodeJS.ProcessEnv;
}

/** Hub settings and the cache/offline environment for Node: options over HF_* variables. */
export function nodeHubSettings(inputs: NodeHubInputs): { settings: HubSettings; environment: HubEnvironment } {
  const environment = hubEnvironment(inputs.hub, inputs.environment);
  return {
    environment,
    settings: {
      endpoint: environment.endpoint,
      ...(environment.token !== undefined ? { token: environment.token } : {}),
      fetch: inputs.fetch ?? globalThis.fetch.bind(globalThis),
      network: { ...DEFAULT_NETWORK_OPTIONS, ...inputs.network },
    },
  };
}
