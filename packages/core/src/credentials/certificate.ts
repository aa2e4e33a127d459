import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { CredentialError } from '../errors/agent-id-error.js';
import { readCertificateFile } from './certificate-file.js';
import type { BlueprintCredential } from './types.js';

/**
 * Options of {@link certificateCredential}: PEM strings (`certificate` + `privateKey`), or the path
 * of one PEM file holding both (`certificatePath`, as `AZURE_CLIENT_CERTIFICATE_PATH`).
 *
 * @example
 * ```ts
 * const options: CertificateCredentialOptions = { certificatePath: '/etc/agentid/blueprint.pem' };
 * ```
 */
export type CertificateCredentialOptions = (
  | {
      /** PEM certificate (the leaf first when a chain is given). */
      certificate: string;
      /** PEM private key (PKCS#8 or PKCS#1, optionally encrypted). */
      privateKey: string;
      certificatePath?: never;
    }
  | {
      /** One PEM file with the private key and the certificate (chain), read once when created. PFX is refused with the openssl command that converts it. */
      certificatePath: string;
      certificate?: never;
      privateKey?: never;
    }
) & {
  /** The passphrase of an encrypted private key. */
  passphrase?: string;
  /** Alias of `passphrase` (`AZURE_CLIENT_CERTIFICATE_PASSWORD`). */
  password?: string;
  /** Send the chain in `x5c` (subject name + issuer authentication). Default false. */
  sendX5c?: boolean;
  /** PS256 with `x5t#S256` (default) or legacy RS256 with SHA-1 `x5t`. */
  algorithm?: 'PS256' | 'RS256';
};

/**
 * A certificate credential: MSAL signs a client assertion with it (PS256 with the SHA-256
 * thumbprint by default). The certificate and key are checked to match when created.
 *
 * @example
 * ```ts
 * const credential = certificateCredential({ certificate: readFileSync('bp.crt', 'utf8'), privateKey: readFileSync('bp.key', 'utf8') });
 * const fromFile = certificateCredential({ certificatePath: '/etc/agentid/blueprint.pem' });
 * ```
 */
export function certificateCredential(options: CertificateCredentialOptions): BlueprintCredential {
  const pem =
    options && typeof options.certificatePath === 'string'
      ? readCertificateFile(options.certificatePath)
      : options;
  if (!pem || typeof pem.certificate !== 'string' || typeof pem.privateKey !== 'string') {
    throw new CredentialError(
      'certificateCredential: give certificate and privateKey as PEM strings, or certificatePath',
    );
  }
  const passphrase = options.passphrase ?? options.password;
  let cert: X509Certificate;
  let keyPem: string;
  try {
    cert = new X509Certificate(pem.certificate);
  } catch (cause) {
    throw new CredentialError('certificateCredential: the certificate is not a valid PEM X.509 certificate', {
      cause,
    });
  }
  try {
    const key = createPrivateKey(passphrase ? { key: pem.privateKey, passphrase } : pem.privateKey);
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
        ...(options.sendX5c ? { x5c: pem.certificate } : {}),
      },
    }),
    toString: () => `certificateCredential(sha256=${sha256}, subject=${cert.subject.replace(/\n/g, ', ')})`,
  };
}
