/**
 * An artifact as a page: the JSON pretty-printed with an anchor on every value,
 * its id the value's JSON pointer, so `viewer.html#/cells/3/metrics/x/summary/median`
 * opens at the number and highlights it. Built as a string: there can be a thousand of these.
 */
import { fragmentOf, pointerOf } from '../model/json-pointer.ts';

const INDENT = '  ';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function scalar(value: unknown): string {
  const text = escapeHtml(JSON.stringify(value));
  const kind = value === null ? 'null' : typeof value;
  return `<span class="j-${kind}">${text}</span>`;
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function render(value: unknown, pointer: string, depth: number, out: string[]): void {
  const id = pointer === '' ? '' : ` id="${escapeHtml(fragmentOf(pointer))}"`;
  if (isScalar(value)) {
    out.push(`<span${id}>${scalar(value)}</span>`);
    return;
  }
  const pad = INDENT.repeat(depth + 1);
  if (Array.isArray(value)) {
    if (value.length === 0) return void out.push(`<span${id}>[]</span>`);
    // Lists of numbers (raw samples) stay on wrapped lines: one value per line would be thousands of lines.
    if (value.every(isScalar)) {
      const items = value.map((item, i) => `<span id="${escapeHtml(fragmentOf(`${pointer}/${i}`))}">${scalar(item)}</span>`);
      return void out.push(`<span${id} class="j-list">[${items.join(', ')}]</span>`);
    }
    out.push(`<span${id}>[\n`);
    value.forEach((item, i) => {
      out.push(pad);
      render(item, `${pointer}/${i}`, depth + 1, out);
      out.push(i < value.length - 1 ? ',\n' : '\n');
    });
    out.push(`${INDENT.repeat(depth)}]</span>`);
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return void out.push(`<span${id}>{}</span>`);
  out.push(`<span${id}>{\n`);
  entries.forEach(([key, child], i) => {
    out.push(`${pad}<span class="j-key">${escapeHtml(JSON.stringify(key))}</span>: `);
    render(child, pointer + pointerOf(key), depth + 1, out);
    out.push(i < entries.length - 1 ? ',\n' : '\n');
  });
  out.push(`${INDENT.repeat(depth)}}</span>`);
}

/** The JSON document as a <pre> with an id per JSON pointer. */
export function jsonWithAnchors(document: unknown): string {
  const out: string[] = ['<pre class="json">'];
  render(document, '', 0, out);
  out.push('</pre>');
  return out.join('');
}
