/**
 * Where a JSON text stops being JSON, as a byte offset, without quoting it:
 * V8's JSON.parse errors quote the text ("Unexpected token 'r', "root:$y$…" is
 * not valid JSON"), and a file read by mistake (a link to /etc/shadow) must not
 * leak through its error message. Grammar: RFC 8259.
 */

export interface JsonSyntaxError {
  /** Byte offset of the first byte that cannot continue a JSON text. */
  byte: number;
  /** "unexpected end of input" or "unexpected byte 0x72": the byte's value in hex, never the text around it. */
  reason: string;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const isHex = (b: number | undefined) => b !== undefined && (isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));

class Stop extends Error {
  constructor(readonly at: number) {
    super('stop');
  }
}

/** The first syntax error in `bytes`, or null when they are one JSON value. */
export function jsonSyntaxError(bytes: Uint8Array): JsonSyntaxError | null {
  let i = 0;
  const fail = (): never => {
    throw new Stop(i);
  };
  const skipSpace = () => {
    while (i < bytes.length && WHITESPACE.has(bytes[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (bytes[i] !== char.charCodeAt(0)) fail();
      i++;
    }
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      const b = bytes[i];
      if (b === undefined || b < 0x20) fail();
      if (b === 0x22) return void i++;
      if (b === 0x5c) {
        i++;
        const e = bytes[i];
        if (e === 0x75) {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!isHex(bytes[i])) fail();
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(e))) fail();
      }
      i++;
    }
  };
  const number = () => {
    if (bytes[i] === 0x2d) i++;
    if (bytes[i] === 0x30) i++;
    else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++;
    else fail();
    if (bytes[i] === 0x2e) {
      i++;
      if (!isDigit(bytes[i])) fail();
      while (isDigit(bytes[i])) i++;
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++;
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
      if (!isDigit(bytes[i])) fail();
      while (isDigit(bytes[i])) i++;
    }
  };
  // An explicit stack, so nesting depth costs heap, not the call stack.
  const value = () => {
    const open: number[] = [];
    for (;;) {
      skipSpace();
      const b = bytes[i];
      if (b === 0x7b || b === 0x5b) {
        open.push(b);
        i++;
        skipSpace();
        const close = b === 0x7b ? 0x7d : 0x5d;
        if (bytes[i] === close) {
          open.pop();
          i++;
        } else {
          if (b === 0x7b) member();
          continue;
        }
      } else if (b === 0x22) string();
      else if (b === 0x74) literal('true');
      else if (b === 0x66) literal('false');
      else if (b === 0x6e) literal('null');
      else if (b === 0x2d || isDigit(b)) number();
      else fail();
      // After a value: a comma continues its container, a bracket closes it.
      for (;;) {
        if (open.length === 0) return;
        skipSpace();
        const top = open.at(-1)!;
        if (bytes[i] === 0x2c) {
          i++;
          if (top === 0x7b) member();
          break;
        }
        if (bytes[i] === (top === 0x7b ? 0x7d : 0x5d)) {
          open.pop();
          i++;
          continue;
        }
        fail();
      }
    }
  };
  // An object member up to its value: "key" :
  const member = () => {
    skipSpace();
    if (bytes[i] !== 0x22) fail();
    string();
    skipSpace();
    if (bytes[i] !== 0x3a) fail();
    i++;
  };
  try {
    value();
    skipSpace();
    if (i < bytes.length) fail();
    return null;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const at = error.at;
    return { byte: at, reason: at >= bytes.length ? 'unexpected end of input' : `unexpected byte 0x${bytes[at]!.toString(16).padStart(2, '0')}` };
  }
}
