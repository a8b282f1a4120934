// The artifact viewer, run in the reader's browser: an artifact page embeds the
// committed JSON, and this script shows it indented with an anchor on every
// value, its id the value's JSON pointer as a URL fragment (RFC 6901 §6, as
// runner/site/model/json-pointer.ts writes the links), so
// `#/cells/3/metrics/x/summary/median` lands on the number and marks it.
// Rendered here rather than at build time: a thousand pretty-printed pages took seconds to build.
// It runs as a blocking script right after the empty <pre>, so the anchors
// exist before the browser looks for the fragment.
'use strict';
{
  const INDENT = '  ';
  const encoder = new TextEncoder();

  const escapeHtml = (text) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

  const pointerToken = (token) => `/${String(token).replaceAll('~', '~0').replaceAll('/', '~1')}`;

  const fragmentOf = (pointer) =>
    pointer.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]/g, (char) =>
      Array.from(encoder.encode(char), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    );

  const idOf = (pointer) => (pointer === '' ? '' : ` id="${escapeHtml(fragmentOf(pointer))}"`);

  const isScalar = (value) => value === null || typeof value !== 'object';

  const scalar = (value) => `<span class="j-${value === null ? 'null' : typeof value}">${escapeHtml(JSON.stringify(value))}</span>`;

  const render = (value, pointer, depth, out) => {
    const id = idOf(pointer);
    if (isScalar(value)) return void out.push(`<span${id}>${scalar(value)}</span>`);
    const pad = INDENT.repeat(depth + 1);
    if (Array.isArray(value)) {
      if (value.length === 0) return void out.push(`<span${id}>[]</span>`);
      // Lists of scalars (raw samples) stay on wrapped lines: one value per line would be thousands of lines.
      if (value.every(isScalar)) {
        const items = value.map((item, i) => `<span${idOf(`${pointer}/${i}`)}>${scalar(item)}</span>`);
        return void out.push(`<span${id} class="j-list">[${items.join(', ')}]</span>`);
      }
      out.push(`<span${id}>[\n`);
      value.forEach((item, i) => {
        out.push(pad);
        render(item, `${pointer}/${i}`, depth + 1, out);
        out.push(i < value.length - 1 ? ',\n' : '\n');
      });
      return void out.push(`${INDENT.repeat(depth)}]</span>`);
    }
    const keys = Object.keys(value);
    if (keys.length === 0) return void out.push(`<span${id}>{}</span>`);
    out.push(`<span${id}>{\n`);
    keys.forEach((key, i) => {
      out.push(`${pad}<span class="j-key">${escapeHtml(JSON.stringify(key))}</span>: `);
      render(value[key], pointer + pointerToken(key), depth + 1, out);
      out.push(i < keys.length - 1 ? ',\n' : '\n');
    });
    out.push(`${INDENT.repeat(depth)}}</span>`);
  };

  const out = [];
  render(JSON.parse(document.getElementById('artifact-json').textContent), '', 0, out);
  document.getElementById('artifact-view').innerHTML = out.join('');
}
