/**
 * Parses an HTTP `Retry-After` value (delay in seconds, or an HTTP-date) into a delay in ms.
 * Returns `undefined` when absent or unparseable; a date in the past gives `0`.
 *
 * @example
 * ```ts
 * parseRetryAfter('2', Date.now()); // 2000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('Wed, 21 Oct 2026 07:27:00 GMT')); // 60000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  // RFC 9110 says delay-seconds is an integer; some servers send decimals, which are harmless.
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Only try dates that contain a letter: Date.parse accepts bare numbers like "-1" or "12".
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Reads a header case-insensitively from a plain record or a `Headers` object.
 *
 * @example
 * ```ts
 * getHeader({ 'Retry-After': '1' }, 'retry-after'); // '1'
 * ```
 */
export function getHeader(
  headers: Record<string, string | undefined> | Headers | undefined,
  name: string,
): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | undefined>;
  const direct = record[name] ?? record[name.toLowerCase()];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const key of Object.keys(record)) if (key.toLowerCase() === wanted) return record[key];
  return undefined;
}
