/** Notes said once and referenced by number: six cells skipped for one reason print it once, as [1]. */

export class Footnotes {
  readonly list: { n: number; text: string }[] = [];

  /** The number of this text: the same number for the same text. */
  number(text: string): number {
    let note = this.list.find((entry) => entry.text === text);
    if (!note) {
      note = { n: this.list.length + 1, text };
      this.list.push(note);
    }
    return note.n;
  }

  /** "[1]". */
  ref(text: string): string {
    return `[${this.number(text)}]`;
  }
}
