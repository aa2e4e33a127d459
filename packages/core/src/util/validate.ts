import { ConfigurationError } from '../errors/agent-id-error.js';

/**
 * Option validators that throw a `ConfigurationError` (`AGENTID_INVALID_OPTIONS`) naming the
 * option by its full path as the user wrote it (`createBlueprint: network.timeoutMs`), as every
 * factory in this package does up front.
 */

/**
 * Runs `make` (a factory that validates its options) so that an option error names the option
 * by its full path: `prefix` is put before the factory's own name for it.
 *
 * @example
 * ```ts
 * const http = withOptionPath('createBlueprint: network.', () => createHttpClient(options.network));
 * ```
 */
export function withOptionPath<T>(prefix: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ConfigurationError && error.code === 'AGENTID_INVALID_OPTIONS')
      throw new ConfigurationError(`${prefix}${error.message}`);
    throw error;
  }
}

/**
 * Asserts a finite number within `[min, max]` (and an integer if asked).
 *
 * @example
 * ```ts
 * assertNumber('timeoutMs', options.timeoutMs, { min: 1, integer: true });
 * ```
 */
export function assertNumber(
  name: string,
  value: unknown,
  {
    min = -Infinity,
    max = Infinity,
    integer = false,
  }: { min?: number; max?: number; integer?: boolean } = {},
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigurationError(`${name} must be a finite number, got ${describe(value)}`);
  }
  if (integer && !Number.isInteger(value))
    throw new ConfigurationError(`${name} must be an integer, got ${value}`);
  if (value < min) throw new ConfigurationError(`${name} must be >= ${min}, got ${value}`);
  if (value > max) throw new ConfigurationError(`${name} must be <= ${max}, got ${value}`);
}

/**
 * Asserts a function (when `optional`, `undefined` passes too).
 *
 * @example
 * ```ts
 * assertFunction('fetch', options.fetch);
 * ```
 */
export function assertFunction(name: string, value: unknown, optional = false): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'function')
    throw new ConfigurationError(`${name} must be a function, got ${describe(value)}`);
}

/**
 * A short, secret-free description of a value for error messages (never the value of a string).
 *
 * @example
 * ```ts
 * describe('abc'); // 'a string'
 * ```
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return String(value);
  return typeof value;
}
