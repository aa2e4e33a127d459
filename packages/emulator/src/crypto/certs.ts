import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Forge from 'node-forge';

// node-forge is CommonJS whose named exports Node cannot detect statically.
const forge = createRequire(import.meta.url)('node-forge') as typeof Forge;

/** A PEM certificate with its key and the thumbprints Entra matches on. */
export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
  /** base64url SHA-256 of the DER certificate, as in `x5t#S256`. */
  x5tS256: string;
  /** base64url SHA-1 of the DER certificate, as in `x5t`. */
  x5t: string;
  /** Hex SHA-256 thumbprint (what MSAL's `thumbprintSha256` takes). */
  thumbprintSha256: string;
  /** Hex SHA-1 thumbprint. */
  thumbprintSha1: string;
}

/** Options of {@link createCertificate}. */
export interface CertificateOptions {
  subject?: string;
  /** Subject alternative names: DNS names and IP addresses. */
  altNames?: { dns?: string[]; ip?: string[] };
  validDays?: number;
  /** Signs with this CA instead of self-signing. */
  issuer?: GeneratedCertificate;
  isCa?: boolean;
}

/** Thumbprints of a PEM certificate, in the forms Entra and MSAL use. */
export function thumbprints(
  certPem: string,
): Pick<GeneratedCertificate, 'x5tS256' | 'x5t' | 'thumbprintSha256' | 'thumbprintSha1'> {
  const der = new X509Certificate(certPem).raw;
  const s256 = createHash('sha256').update(der).digest();
  const s1 = createHash('sha1').update(der).digest();
  return {
    x5tS256: s256.toString('base64url'),
    x5t: s1.toString('base64url'),
    thumbprintSha256: s256.toString('hex'),
    thumbprintSha1: s1.toString('hex'),
  };
}

/**
 * Creates an X.509 certificate (RSA 2048, SHA-256): a blueprint's credential, the emulator's CA,
 * or its TLS server certificate. Keys come from Node's crypto; node-forge only builds the certificate.
 */
export function createCertificate(opts: CertificateOptions = {}): GeneratedCertificate {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fkey = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(fkey.n, fkey.e);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const notBefore = new Date(Date.now() - 60_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + (opts.validDays ?? 365) * 86_400_000);
  const subject = [{ name: 'commonName', value: opts.subject ?? 'agentid' }];
  cert.setSubject(subject);
  const issuerCert = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : subject);
  const exts: object[] = [{ name: 'basicConstraints', cA: opts.isCa ?? false }];
  if (opts.isCa) exts.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true });
  else exts.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true });
  const alt = [
    ...(opts.altNames?.dns ?? []).map((value) => ({ type: 2, value })),
    ...(opts.altNames?.ip ?? []).map((ip) => ({ type: 7, ip })),
  ];
  if (alt.length)
    exts.push({ name: 'subjectAltName', altNames: alt }, { name: 'extKeyUsage', serverAuth: true });
  cert.setExtensions(exts);
  const signer = opts.issuer ? forge.pki.privateKeyFromPem(opts.issuer.keyPem) : fkey;
  cert.sign(signer, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem, ...thumbprints(certPem) };
}

/** A CA certificate written to disk for NODE_EXTRA_CA_CERTS; `remove()` deletes what was created. */
export interface CaFile {
  path: string;
  remove(): void;
}

// Folders still to remove if the process exits without close() (process.exit, a thrown error).
const ownedDirs = new Set<string>();
let exitHook = false;

/**
 * Writes a CA certificate as `ca.pem`: into `dir` when given (the caller's folder, left in place by
 * `remove()`, which deletes only the file), else into a new private folder
 * `<tmpdir>/agentid-emulator-XXXXXX` (mkdtemp: unpredictable, mode 0700) that `remove()` deletes
 * whole, as does process exit if nobody called it.
 */
export function writeCaFile(certPem: string, dir?: string): CaFile {
  let folder: string;
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    folder = dir;
  } else {
    folder = mkdtempSync(join(tmpdir(), 'agentid-emulator-'));
    ownedDirs.add(folder);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
      });
    }
  }
  const path = join(folder, 'ca.pem');
  writeFileSync(path, certPem);
  return {
    path,
    remove() {
      if (dir !== undefined) {
        rmSync(path, { force: true });
        return;
      }
      rmSync(folder, { recursive: true, force: true });
      ownedDirs.delete(folder);
    },
  };
}
