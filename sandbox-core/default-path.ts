/** The PATH a sandboxed command gets when nothing sets one: the usual Debian order, the same the C agent uses. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
