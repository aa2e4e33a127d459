import { inspect } from 'node:util';

/** A URL without its password (and without a username that could be a token). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    else if (u.username) u.username = 'redacted';
    return u.toString();
  } catch {
    return '[redacted]';
  }
}

// The Redis URL (which may hold a password) and the encryption keys live in private fields:
// util.inspect (even with showHidden), JSON.stringify and object spread never see them.
export class RedisSettings {
  readonly #url: string;
  readonly #keys: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly currentKeyId: string;
  constructor(url: string, namespace: string, currentKeyId: string, keys: Record<string, string>) {
    this.#url = url;
    this.#keys = Object.freeze({ ...keys });
    this.namespace = namespace;
    this.currentKeyId = currentKeyId;
  }
  get url(): string {
    return this.#url;
  }
  get keys(): Readonly<Record<string, string>> {
    return this.#keys;
  }
  toJSON(): Record<string, unknown> {
    return {
      url: redactUrl(this.#url),
      namespace: this.namespace,
      currentKeyId: this.currentKeyId,
      keys: Object.fromEntries(Object.keys(this.#keys).map((id) => [id, '[redacted]'])),
    };
  }
  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}
