import { describe, expect, it } from 'vitest';
import { toUniPicError, describeError } from '../../adapters/shared/ort-error-mapping.js';
import { DisposedError, UniPicError } from '../../src/errors/index.js';

const create = { adapter: 'node-ort', phase: 'create-session', graph: 'llm', device: 'cuda' } as const;
const run = { adapter: 'web-ort', phase: 'run', graph: 'llm', device: 'webgpu' } as const;

describe('ORT error mapping', () => {
  // Messages as ONNX Runtime (native, wasm, CUDA, WebGPU) and V8 word them.
  const cases: Array<[string, typeof create | typeof run, string]> = [
    ['CUDA failure 2: out of memory ; GPU=0 ; hostname=x', run, 'OUT_OF_MEMORY'],
    ['std::bad_alloc', run, 'OUT_OF_MEMORY'],
    ['Failed to allocate memory for requested buffer of size 123', create, 'OUT_OF_MEMORY'],
    ['Aborted(OOM)', run, 'OUT_OF_MEMORY'],
    ['RangeError: Array buffer allocation failed', run, 'OUT_OF_MEMORY'],
    ['GPU device lost: destroyed', run, 'OUT_OF_MEMORY'],
    // Measured in Chromium: the one-shot VAE encoder at 1024 px on wasm (a 4.5 GiB column buffer).
    [
      'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /onnxruntime/core/common/safeint.h:17 static void SafeIntExceptionHandler<onnxruntime::OnnxRuntimeException>::SafeIntOnOverflow() Integer overflow',
      run,
      'OUT_OF_MEMORY',
    ],
    ["Load model from /m/x.onnx failed:Load model /m/x.onnx failed. File doesn't exist", create, 'MODEL_NOT_FOUND'],
    ['Deserialize tensor w failed.GetFileLength for /m/w.data failed:open file w.data fail, errcode = 2 - No such file or directory', create, 'MODEL_NOT_FOUND'],
    ['Load model from memory failed:Protobuf parsing failed.', create, 'INVALID_MODEL'],
    ["Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed.", create, 'INVALID_MODEL'],
    ['com.microsoft:SimplifiedLayerNormalization is not a registered function/op', create, 'INVALID_MODEL'],
    ['Could not find an implementation for MatMul(13) node with name m', create, 'INVALID_MODEL'],
    ['Non-zero status code returned while running Add node. Name:a', run, 'RUNTIME'],
    // A graph problem found only while running is still a runtime failure, not a bad model.
    ['Protobuf parsing failed.', run, 'RUNTIME'],
    ['something nobody anticipated', create, 'RUNTIME'],
  ];

  it.each(cases)('%s (%#) → %s', (message, context, code) => {
    const raw = new Error(message);
    const mapped = toUniPicError(raw, context);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(raw);
    expect(mapped.message).toContain(message);
    expect(mapped.message).toContain("graph 'llm'");
    expect(mapped.details).toMatchObject({ ...context, ortMessage: message });
  });

  it('passes typed errors through unchanged and describes non-errors', () => {
    const typed = new DisposedError('gone');
    expect(toUniPicError(typed, run)).toBe(typed);
    expect(UniPicError.isInstance(toUniPicError('plain string failure', run))).toBe(true);
    expect(describeError({ code: 5 })).toBe('{"code":5}');
    expect(describeError(new Error(''))).toBe('Error');
  });
});
