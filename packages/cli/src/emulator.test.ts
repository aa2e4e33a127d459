import { describe, expect, it } from 'vitest';
import { loadEmulator } from './emulator.js';

describe('loadEmulator: @agentid/emulator is an optional peer', () => {
  it('loads it when installed', async () => {
    expect(typeof (await loadEmulator()).createEmulator).toBe('function');
  });

  it('missing, is a ConfigurationError naming the package to install', async () => {
    const missing = Object.assign(new Error("Cannot find package '@agentid/emulator'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadEmulator(() => Promise.reject(missing))).rejects.toMatchObject({
      code: 'AGENTID_INVALID_OPTIONS',
      message: expect.stringContaining('npm install @agentid/emulator'),
    });
  });

  it('any other failure is rethrown as it is', async () => {
    const other = new SyntaxError('boom');
    await expect(loadEmulator(() => Promise.reject(other))).rejects.toBe(other);
  });
});
