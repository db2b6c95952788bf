import { describe, expect, it } from 'vitest';
import { formatHubId, isHubId, parseHubId } from '../../src/core/hub/hub-id.js';
import { hubOptionsSchema } from '../../src/core/hub/hub-options.js';

describe('hf: ids', () => {
  it('parses repository, revision and folder', () => {
    expect(parseHubId('hf:Skywork/Skywork-UniPic-1.5B')).toEqual({ repo: 'Skywork/Skywork-UniPic-1.5B', subfolder: '' });
    expect(parseHubId('hf:org/name@v1.0')).toEqual({ repo: 'org/name', revision: 'v1.0', subfolder: '' });
    expect(parseHubId('hf:org/name/onnx/q4/')).toEqual({ repo: 'org/name', subfolder: 'onnx/q4' });
    const commit = 'a'.repeat(40);
    expect(parseHubId(`hf:org/name@${commit}/onnx`)).toEqual({ repo: 'org/name', revision: commit, subfolder: 'onnx' });
    // A revision with a slash is percent-encoded, and comes back encoded.
    expect(parseHubId('hf:org/name@refs%2Fpr%2F1/onnx')).toEqual({ repo: 'org/name', revision: 'refs/pr/1', subfolder: 'onnx' });
    expect(formatHubId({ repo: 'org/name', revision: 'refs/pr/1', subfolder: 'onnx' })).toBe('hf:org/name@refs%2Fpr%2F1/onnx');
    expect(isHubId('hf:a/b')).toBe(true);
    expect(isHubId('./hf:a')).toBe(false);
  });

  it('refuses what is not a repository, a revision or a plain folder', () => {
    for (const bad of [
      'hf:',
      'hf:name',
      'hf:/name',
      'hf:org/',
      'hf:org/name@',
      'hf:org/name/../x',
      'hf:org/name/a//b',
      'hf:org/name@..%2F..%2Fx',
      'hf:org/name@%zz',
      'hf:o rg/name',
    ]) {
      expect(() => parseHubId(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    }
  });

  it('validates the hub options (browsers have no environment to fall back on)', () => {
    expect(hubOptionsSchema.safeParse({ token: 't', endpoint: 'https://hf-mirror.example', revision: 'v2' }).success).toBe(true);
    expect(hubOptionsSchema.safeParse({ endpoint: 'ftp://x' }).success).toBe(false);
    expect(hubOptionsSchema.safeParse({ revision: '../../etc' }).success).toBe(false);
    expect(hubOptionsSchema.safeParse({ token: '' }).success).toBe(false);
    expect(hubOptionsSchema.safeParse({ tokn: 'typo' }).success).toBe(false);
  });
});
