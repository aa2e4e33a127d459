/**
 * Option validators that throw a `TypeError` naming the option, as every factory in this
 * package does up front.
 */

/**
 * Asserts a finite number within `[min, max]` (and an integer if asked).
 *
 * @example
 * ```ts
 * assertNumber('timeoutMs', options.timeoutMs, { min: 1, integer: true });
 * ```
 */
export function assertNumber(name: string, value: unknown, { min = -Infinity, max = Infinity, integer = false }: { min?: number; max?: number; integer?: boolean } = {}): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${describe(value)}`);
  }
  if (integer && !Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${value}`);
  if (value < min) throw new TypeError(`${name} must be >= ${min}, got ${value}`);
  if (value > max) throw new TypeError(`${name} must be <= ${max}, got ${value}`);
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
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${describe(value)}`);
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
