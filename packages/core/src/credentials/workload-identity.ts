import { readFile, stat } from 'node:fs/promises';
import { CredentialError } from '../errors/agent-id-error.js';
import type { BlueprintCredential } from './types.js';

/** Options of {@link workloadIdentityCredential}. */
export interface WorkloadIdentityCredentialOptions {
  /** The projected token file. Default: `AZURE_FEDERATED_TOKEN_FILE`. */
  tokenFilePath?: string;
}

/**
 * A Kubernetes workload identity (or any projected OIDC token file): the file is re-read whenever
 * it changes (the kubelet rotates it) or the token in it is about to expire.
 *
 * @example
 * ```ts
 * const credential = workloadIdentityCredential(); // reads AZURE_FEDERATED_TOKEN_FILE
 * ```
 */
export function workloadIdentityCredential(
  options: WorkloadIdentityCredentialOptions = {},
): BlueprintCredential {
  const path = options.tokenFilePath ?? process.env.AZURE_FEDERATED_TOKEN_FILE;
  if (!path)
    throw new CredentialError(
      'workloadIdentityCredential: set tokenFilePath or the AZURE_FEDERATED_TOKEN_FILE environment variable',
    );
  let last: { mtimeMs: number; size: number; token: string } | undefined;
  // One stat per token request (not per cache hit): a rotated file is picked up at once.
  const read = async (): Promise<string> => {
    let s;
    try {
      s = await stat(path);
    } catch (cause) {
      throw new CredentialError(`workloadIdentityCredential: cannot read the token file ${path}`, { cause });
    }
    if (last && last.mtimeMs === s.mtimeMs && last.size === s.size) return last.token;
    const token = (await readFile(path, 'utf8')).trim();
    if (token.split('.').length !== 3)
      throw new CredentialError(`workloadIdentityCredential: the token file ${path} does not hold a JWT`);
    last = { mtimeMs: s.mtimeMs, size: s.size, token };
    return token;
  };
  return {
    kind: 'workloadIdentity',
    resolve: () => ({ clientAssertion: read }),
    toString: () => `workloadIdentityCredential(${path})`,
  };
}
