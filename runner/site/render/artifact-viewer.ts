/**
 * An artifact as a page: the committed JSON embedded as it is, shown by
 * site/viewer.js in the browser with an anchor on every value whose id is the
 * value's JSON pointer, so `viewer.html#/cells/3/metrics/x/summary/median`
 * opens at the number and marks it. Embedding costs a copy of the text; pretty-printing
 * a thousand artifacts at build time cost seconds.
 */

/** The site path of the script that renders every artifact page. */
export const VIEWER_SCRIPT_PATH = 'viewer.js';

/**
 * JSON text safe inside <script type="application/json">: `<` occurs only in
 * strings, where `\u003c` is the same character, so `</script>` cannot end the element early.
 */
export function jsonForScript(text: string): string {
  return text.replaceAll('<', '\\u003c');
}
