import { randomBytes, webcrypto } from 'node:crypto';
import { defaultCaDir } from './ca-dir.ts';
import { mkdir, readFile, writeFile, link, unlink, rename, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { x509, type X509 } from './x509.ts';

/** ECDSA P-256: signing a leaf takes well under a millisecond, RSA-2048 keygen takes tens. */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** The installation's interception CA: what the proxy signs leaves with and clients trust. */
export interface Ca {
  /** The CA certificate, PEM; give this to clients to trust. */
  certPem: string;
  /** The parsed CA certificate (issuer name and key identifier for leaves). */
  cert: X509.X509Certificate;
  /** The CA's private key, usable only for signing (not extractable). */
  signingKey: CryptoKey;
  /** Where the CA lives; `ca.pem` (cert + key, mode 0600) and `cert.pem` (cert only). */
  dir: string;
}

/** `${XDG_CACHE_HOME:-~/.cache}/rigor/ca`. */
export { defaultCaDir } from './ca-dir.ts';

/**
 * Load the CA stored in `dir`, or create one there. The private key and cert
 * live in one file (`ca.pem`, mode 0600) so they are published together by one
 * atomic `link`: two processes creating at once end up sharing the winner's CA.
 */
export async function loadOrCreateCa(dir: string = defaultCaDir()): Promise<Ca> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const bundlePath = join(dir, 'ca.pem');
  let bundle = await readIfExists(bundlePath);
  if (bundle === undefined) {
    const tmp = join(dir, `.ca.pem.${process.pid}.${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, await createCaBundle(), { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, bundlePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(tmp);
    }
    bundle = await readFile(bundlePath, 'utf8');
  }
  const ca = await parseCaBundle(bundle, bundlePath, dir);
  await publishCert(dir, ca.certPem);
  return ca;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function createCaBundle(): Promise<string> {
  const { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, PemConverter, SubjectKeyIdentifierExtension, X509CertificateGenerator } = await x509();
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=rigor local interception CA ${randomBytes(4).toString('hex')}, O=rigor`,
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return `${cert.toString('pem')}\n${PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`;
}

async function parseCaBundle(bundle: string, path: string, dir: string): Promise<Ca> {
  const certMatch = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundle);
  const keyMatch = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(bundle);
  if (!certMatch || !keyMatch) {
    throw new Error(`${path}: expected a CERTIFICATE and a PRIVATE KEY PEM block, found ${certMatch ? 'no key' : 'no certificate'}; delete the directory to make a new CA`);
  }
  const { PemConverter, X509Certificate } = await x509();
  const cert = new X509Certificate(certMatch[0]);
  const der = PemConverter.decode(keyMatch[0])[0];
  if (!der) throw new Error(`${path}: the PRIVATE KEY block is empty`);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']);
  return { certPem: cert.toString('pem'), cert, signingKey: signingKey as CryptoKey, dir };
}

/** A world-readable copy of the cert alone, for clients and sandboxes to trust. */
async function publishCert(dir: string, certPem: string): Promise<void> {
  const certPath = join(dir, 'cert.pem');
  if ((await readIfExists(certPath)) === `${certPem}\n`) return;
  const tmp = join(dir, `.cert.pem.${process.pid}.${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, `${certPem}\n`, { mode: 0o644 });
  await chmod(tmp, 0o644);
  await rename(tmp, certPath);
}
