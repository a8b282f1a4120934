/** Where the kernel recipe's inputs live in the repository. */
import { fileURLToPath } from 'node:url';

const repo = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Config fragments merged on top of tinyconfig, in file-name order. */
export const CONFIG_DIR = repo('kernel/config');
/** Boot command-line presets, one `<name>.txt` each. */
export const CMDLINE_DIR = repo('kernel/cmdline');
/** The patch series: `series` and the patches it names. */
export const PATCHES_DIR = repo('patches');
