import { ManagedIdentityApplication } from '@azure/msal-node';
import { CredentialError } from '../errors/agent-id-error.js';
import { federatedCredential } from './federated.js';
import type { BlueprintCredential } from './types.js';

/** Options of {@link managedIdentityCredential}: a user-assigned identity by one id, or system-assigned. */
export interface ManagedIdentityCredentialOptions {
  clientId?: string;
  resourceId?: string;
  objectId?: string;
}

/**
 * A managed identity as the blueprint's federated credential: MSAL's ManagedIdentityApplication
 * gets a token for the token-exchange audience, sent as the client assertion.
 *
 * @example
 * ```ts
 * const credential = managedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID });
 * ```
 */
export function managedIdentityCredential(
  options: ManagedIdentityCredentialOptions = {},
): BlueprintCredential {
  const ids = [options.clientId, options.resourceId, options.objectId].filter(Boolean);
  if (ids.length > 1)
    throw new CredentialError(
      'managedIdentityCredential: give at most one of clientId, resourceId, objectId',
    );
  let mi: ManagedIdentityApplication | undefined;
  const describe = `managedIdentityCredential(${options.clientId ? `clientId=${options.clientId}` : options.objectId ? `objectId=${options.objectId}` : options.resourceId ? 'resourceId' : 'system-assigned'})`;
  return {
    kind: 'managedIdentity',
    resolve(ctx) {
      const inner = federatedCredential(
        async ({ audience }) => {
          mi ??= new ManagedIdentityApplication({
            ...(ids.length
              ? {
                  managedIdentityIdParams: options.clientId
                    ? { userAssignedClientId: options.clientId }
                    : options.objectId
                      ? { userAssignedObjectId: options.objectId }
                      : { userAssignedResourceId: options.resourceId! },
                }
              : {}),
            system: { networkClient: ctx.network, disableInternalRetries: true },
          });
          try {
            return (await mi.acquireToken({ resource: audience })).accessToken;
          } catch (cause) {
            throw new CredentialError(`${describe}: could not get a token for ${audience}`, { cause });
          }
        },
        { kind: 'managedIdentity', describe },
      );
      return inner.resolve(ctx);
    },
    toString: () => describe,
  };
}
