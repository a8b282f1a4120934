/** Quoting an argv as one POSIX shell command line (what hyperfine -N splits back into words). */

/** Each word as is when it holds only safe characters, else in single quotes ('\'' for a quote inside). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}
