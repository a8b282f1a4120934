/**
 * @peculiar/x509, loaded on first use: with the Reflect metadata API it needs
 * and its ASN.1 schemas it costs tens of milliseconds at start-up, which a
 * command that signs nothing (rigor validate, rigor run of a gzip rig) should not pay.
 */
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export type { X509 };

let loaded: Promise<typeof X509> | undefined;

/** The library, its crypto provider set to Node's WebCrypto. */
export function x509(): Promise<typeof X509> {
  loaded ??= (async () => {
    // @peculiar/x509 needs the Reflect metadata API loaded first.
    await import('reflect-metadata');
    const library = await import('@peculiar/x509');
    library.cryptoProvider.set(webcrypto as unknown as Crypto);
    return library;
  })();
  return loaded;
}
