import type { BackendInitOptions, Device, DeviceRequest } from '../../src/spec/backend.js';
import { BackendUnavailableError, UnsupportedDeviceError, type DeviceAttempt } from '../../src/errors/index.js';
import { describeError } from './ort-error-mapping.js';

/** The warning `init()` emits when `auto` skipped devices that failed. */
export interface DeviceFallbackWarning {
  readonly code: 'device-fallback';
  readonly message: string;
  readonly device: Device;
  readonly attempts: readonly DeviceAttempt[];
}

export interface DeviceResolutionRequest<D extends Device> {
  readonly adapter: string;
  readonly request: DeviceRequest;
  /** Every device this adapter can ever use; anything else is unsupported, not unavailable. */
  readonly offered: readonly D[];
  /** The order `auto` tries; a subset of `offered`. */
  readonly autoOrder: readonly D[];
  /** Resolves when the device works, throws why it does not. */
  readonly probe: (device: D) => Promise<void>;
  readonly onWarning?: BackendInitOptions['onWarning'];
}

export interface DeviceResolution<D extends Device> {
  readonly device: D;
  /** The failed attempts before `device` worked (empty when the first choice worked). */
  readonly failed: readonly DeviceAttempt[];
}

/**
 * Picks the device: an explicit one must work; `auto` takes the first of `autoOrder` that works,
 * warns when that was not the first, and fails with every attempt only when none works.
 */
export async function resolveDevice<D extends Device>(resolution: DeviceResolutionRequest<D>): Promise<DeviceResolution<D>> {
  const { adapter, request, offered } = resolution;
  if (request !== 'auto' && !offered.includes(request as D)) {
    throw new UnsupportedDeviceError(`${adapter} does not offer device '${request}'; it offers ${offered.join(', ')} and 'auto'`, {
      details: { adapter, device: request, offered },
    });
  }
  const candidates = request === 'auto' ? resolution.autoOrder : [request as D];
  const failed: DeviceAttempt[] = [];
  let lastError: unknown;
  for (const device of candidates) {
    try {
      await resolution.probe(device);
    } catch (error) {
      lastError = error;
      failed.push({ device, error: describeError(error) });
      continue;
    }
    if (failed.length > 0) {
      // One short line: the reasons (a CUDA diagnosis alone is ~600 characters) are in `attempts`.
      const skipped = failed.map((attempt) => attempt.device).join(', ');
      const warning: DeviceFallbackWarning = {
        code: 'device-fallback',
        message: `${adapter}: using ${device} (${skipped} unavailable here; the reasons are in this warning's attempts)`,
        device,
        attempts: failed,
      };
      resolution.onWarning?.(warning);
    }
    return { device, failed };
  }
  const listing = failed.map((attempt) => `  ${attempt.device}: ${attempt.error}`).join('\n');
  const what = request === 'auto' ? `no device worked (tried ${candidates.join(' → ')})` : `device '${request}' did not start`;
  throw new BackendUnavailableError(`${adapter}: ${what}\n${listing}`, { cause: lastError, details: { adapter, attempts: failed } });
}
