import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { CredentialError } from '../errors/agent-id-error.js';
import type { BlueprintCredential } from './types.js';

/** Options of {@link certificateCredential}. */
export interface CertificateCredentialOptions {
  /** PEM certificate (the leaf first when a chain is given). */
  certificate: string;
  /** PEM private key (PKCS#8 or PKCS#1, optionally encrypted). */
  privateKey: string;
  passphrase?: string;
  /** Send the chain in `x5c` (subject name + issuer authentication). Default false. */
  sendX5c?: boolean;
  /** PS256 with `x5t#S256` (default) or legacy RS256 with SHA-1 `x5t`. */
  algorithm?: 'PS256' | 'RS256';
}

/**
 * A certificate credential: MSAL signs a client assertion with it (PS256 with the SHA-256
 * thumbprint by default). The certificate and key are checked to match when created.
 *
 * @example
 * ```ts
 * const credential = certificateCredential({ certificate: readFileSync('bp.crt', 'utf8'), privateKey: readFileSync('bp.key', 'utf8') });
 * ```
 */
export function certificateCredential(options: CertificateCredentialOptions): BlueprintCredential {
  if (!options || typeof options.certificate !== 'string' || typeof options.privateKey !== 'string') {
    throw new CredentialError('certificateCredential: certificate and privateKey must be PEM strings');
  }
  let cert: X509Certificate;
  let keyPem: string;
  try {
    cert = new X509Certificate(options.certificate);
  } catch (cause) {
    throw new CredentialError('certificateCredential: the certificate is not a valid PEM X.509 certificate', {
      cause,
    });
  }
  try {
    const key = createPrivateKey(
      options.passphrase ? { key: options.privateKey, passphrase: options.passphrase } : options.privateKey,
    );
    const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!fromKey.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) {
      throw new CredentialError('certificateCredential: the private key does not match the certificate');
    }
    keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (cause) {
    if (cause instanceof CredentialError) throw cause;
    throw new CredentialError(
      'certificateCredential: the private key cannot be read (wrong format or passphrase)',
      { cause },
    );
  }
  const sha256 = createHash('sha256').update(cert.raw).digest('hex');
  const sha1 = createHash('sha1').update(cert.raw).digest('hex');
  const legacy = options.algorithm === 'RS256';
  return {
    kind: 'certificate',
    resolve: () => ({
      clientCertificate: {
        ...(legacy ? { thumbprint: sha1 } : { thumbprintSha256: sha256 }),
        privateKey: keyPem,
        ...(options.sendX5c ? { x5c: options.certificate } : {}),
      },
    }),
    toString: () => `certificateCredential(sha256=${sha256}, subject=${cert.subject.replace(/\n/g, ', ')})`,
  };
}
