import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { KEY_ALGORITHM, type Ca } from './ca.ts';
import { x509 } from './x509.ts';

/** A host's leaf: PEMs for anyone, and the ready TLS context for the proxy. */
export interface Leaf {
  certPem: string;
  keyPem: string;
  secureContext: SecureContext;
}

/** Well under the 398-day limit clients enforce on server certificates. */
const LEAF_LIFETIME_MS = 30 * 24 * 3600_000;

/**
 * Leaf certificates signed by `ca`, made on first use per host and kept in
 * memory (least recently used evicted past `capacity`). All leaves share one
 * key pair, made once: a host's leaf then costs one signature, not a keygen.
 */
export class LeafCache {
  readonly #ca: Ca;
  readonly #capacity: number;
  readonly #leaves = new Map<string, Promise<Leaf>>();
  #keys: Promise<{ pair: CryptoKeyPair; keyPem: string }> | undefined;
  #made = 0;

  constructor(ca: Ca, capacity = 1000) {
    this.#ca = ca;
    this.#capacity = capacity;
  }

  /** How many leaves were signed (cache misses) since construction. */
  get made(): number {
    return this.#made;
  }

  /** The leaf for `host` (a DNS name or an IP address). */
  get(host: string): Promise<Leaf> {
    const key = host.toLowerCase();
    const cached = this.#leaves.get(key);
    if (cached) {
      this.#leaves.delete(key);
      this.#leaves.set(key, cached);
      return cached;
    }
    const made = this.#make(key);
    // A failed signing must not poison the host forever.
    made.catch(() => this.#leaves.delete(key));
    this.#leaves.set(key, made);
    if (this.#leaves.size > this.#capacity) {
      const oldest = this.#leaves.keys().next().value;
      if (oldest !== undefined) this.#leaves.delete(oldest);
    }
    return made;
  }

  async #make(host: string): Promise<Leaf> {
    this.#keys ??= makeLeafKeys();
    const { pair, keyPem } = await this.#keys;
    const { AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsage, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension, SubjectAlternativeNameExtension, X509CertificateGenerator } =
      await x509();
    const now = Date.now();
    const cert = await X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      subject: `CN=${isIP(host) ? host : host.replace(/[,+="\\<>;#]/g, '')}`,
      issuer: this.#ca.cert.subjectName,
      notBefore: new Date(now - 24 * 3600_000),
      notAfter: new Date(now + LEAF_LIFETIME_MS),
      signingAlgorithm: KEY_ALGORITHM,
      publicKey: pair.publicKey,
      signingKey: this.#ca.signingKey,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
        await AuthorityKeyIdentifierExtension.create(this.#ca.cert.publicKey),
      ],
    });
    this.#made += 1;
    const certPem = cert.toString('pem');
    // The chain includes the CA so clients that only pin the root still build the path.
    const secureContext = createSecureContext({ cert: `${certPem}\n${this.#ca.certPem}\n`, key: keyPem });
    return { certPem, keyPem, secureContext };
  }
}

async function makeLeafKeys(): Promise<{ pair: CryptoKeyPair; keyPem: string }> {
  const pair = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', pair.privateKey);
  return { pair, keyPem: (await x509()).PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
