import { ConfigurationError } from '../errors/agent-id-error.js';
import type { BlueprintCredential } from './types.js';

let warned = false;

/**
 * A client secret. **For development only**, as Entra advises: it warns once per process.
 * Production blueprints use a certificate or a federated credential.
 *
 * @example
 * ```ts
 * const credential = secretCredential(process.env.AZURE_CLIENT_SECRET!);
 * ```
 */
export function secretCredential(
  secret: string,
  options: { silenceWarning?: boolean } = {},
): BlueprintCredential {
  if (typeof secret !== 'string' || secret.length === 0)
    throw new ConfigurationError('secretCredential: secret must be a non-empty string');
  return {
    kind: 'secret',
    resolve(ctx) {
      if (!warned && !options.silenceWarning) {
        warned = true;
        ctx.warn(
          'secretCredential is for development only: use a certificate or a federated identity credential in production',
        );
      }
      return { clientSecret: secret };
    },
    toString: () => 'secretCredential([redacted])',
  };
}
