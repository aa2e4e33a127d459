export { secretCredential } from './secret.js';
export { certificateCredential, type CertificateCredentialOptions } from './certificate.js';
export { federatedCredential, type AzureTokenCredential, type FederatedTokenRequest } from './federated.js';
export { workloadIdentityCredential, type WorkloadIdentityCredentialOptions } from './workload-identity.js';
export { managedIdentityCredential, type ManagedIdentityCredentialOptions } from './managed-identity.js';
export type { BlueprintCredential, CredentialContext, MsalClientCredential } from './types.js';
