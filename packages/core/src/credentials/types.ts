import type { INetworkModule } from '@azure/msal-node';
import type { Clock } from '../util/clock.js';

/** What MSAL's `auth` needs to authenticate the blueprint: exactly one of these. */
export type MsalClientCredential =
  | { clientSecret: string }
  | {
      clientCertificate: { thumbprintSha256?: string; thumbprint?: string; privateKey: string; x5c?: string };
    }
  | {
      /** Returns a client assertion for the token endpoint (`tokenEndpoint` is its audience). */
      clientAssertion: (config: {
        clientId: string;
        tokenEndpoint?: string;
        fmiPath?: string;
      }) => Promise<string>;
    };

/** Context a credential is resolved in, supplied by `createBlueprint`. */
export interface CredentialContext {
  /** The token-exchange audience of the cloud (e.g. `api://AzureADTokenExchange`). */
  exchangeAudience: string;
  /** The broker's network client (timeouts, retries) in MSAL's shape. */
  network: INetworkModule;
  clock: Clock;
  /** Logs a warning (never with secret material). */
  warn: (message: string) => void;
}

/**
 * A blueprint credential. Create one with {@link secretCredential}, {@link certificateCredential},
 * {@link federatedCredential}, {@link managedIdentityCredential} or {@link workloadIdentityCredential}.
 *
 * @example
 * ```ts
 * const credential: BlueprintCredential = certificateCredential({ certificate: certPem, privateKey: keyPem });
 * ```
 */
export interface BlueprintCredential {
  readonly kind: 'secret' | 'certificate' | 'federated' | 'managedIdentity' | 'workloadIdentity';
  /** Turns the credential into MSAL client credentials. Called once by `createBlueprint`. */
  resolve(ctx: CredentialContext): MsalClientCredential;
  /** A description safe to log (never secret material). */
  toString(): string;
}
