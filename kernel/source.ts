/**
 * The kernel source: Debian's linux-source-6.1 package, a tarball in
 * /usr/src, and its package version, which names the source in the cache
 * key and the build manifest.
 */
import { execa } from 'execa';
import { InputError } from '../base/errors.ts';

export const SOURCE_PACKAGE = 'linux-source-6.1';
export const SOURCE_TARBALL = `/usr/src/${SOURCE_PACKAGE}.tar.xz`;

/** The installed version of a Debian package ("6.1.192-2"); throws saying what to install when it is not. */
export async function debianPackageVersion(pkg: string): Promise<string> {
  const result = await execa('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { reject: false, stdin: 'ignore' });
  const [status, version] = String(result.stdout ?? '').split('\t');
  if (result.exitCode !== 0 || !status?.endsWith(' installed') || !version) {
    const why = (result as { code?: string }).code === 'ENOENT' ? 'dpkg-query not found (not a Debian-based host)' : `${pkg} is not installed`;
    throw new InputError(`kernel source: ${why}; the guest kernel is built from Debian's ${pkg} (apt-get install -y ${pkg})`);
  }
  return version;
}
