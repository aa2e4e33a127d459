import { readFileSync } from 'node:fs';
import { ConfigurationError, CredentialError } from '../errors/agent-id-error.js';

/** A PEM file's certificates (the leaf first) and its private key, as certificateCredential takes them. */
export interface CertificatePem {
  certificate: string;
  privateKey: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK =
  /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/;

/**
 * Reads a certificate file as `@azure/identity`'s ClientCertificateCredential does: one PEM file
 * holding the private key and the certificate (chain). PKCS#12 (PFX) is refused with the command
 * that converts it: Node's crypto has no PKCS#12 reader, and the one maintained library that has
 * (node-forge, 1.6 MB of pure-JS crypto) is too heavy a dependency for core to carry for a one-off
 * conversion. `variable` names where the path came from, for the error messages.
 */
export function readCertificateFile(path: string, variable = 'certificatePath'): CertificatePem {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (cause) {
    throw new CredentialError(`certificateCredential: cannot read ${variable} (${path})`, { cause });
  }
  const text = data.toString('utf8');
  if (!text.includes('-----BEGIN')) {
    // A DER SEQUENCE (0x30) is what a .pfx/.p12 file starts with.
    const pfx = data[0] === 0x30 || /\.(pfx|p12)$/i.test(path);
    throw new ConfigurationError(
      `certificateCredential: ${variable} (${path}) is ${pfx ? 'a PKCS#12 (PFX) file' : 'not a PEM file'}; ` +
        "Node's crypto reads PEM only. Convert it once: " +
        `openssl pkcs12 -in '${path}' -out '${path.replace(/\.(pfx|p12)$/i, '')}.pem' -nodes ` +
        '(add -legacy for an old RC2-encrypted file; the .pem holds the private key: protect it like the PFX), ' +
        'then point the path at the .pem file',
    );
  }
  const certificates = text.match(CERT_BLOCK) ?? [];
  const key = KEY_BLOCK.exec(text)?.[0];
  const missing = [certificates.length === 0 ? 'CERTIFICATE block' : '', key ? '' : 'PRIVATE KEY block']
    .filter(Boolean)
    .join(' and ');
  if (missing)
    throw new ConfigurationError(
      `certificateCredential: ${variable} (${path}) must be one PEM file with the private key and the certificate; it has no ${missing}`,
    );
  return { certificate: certificates.join('\n'), privateKey: key! };
}
