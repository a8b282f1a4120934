/** "did you mean ...?" for misspelt keys and names. */

/**
 * Edit distance with adjacent swaps (optimal string alignment): insert, delete,
 * substitute and swapping two neighbours ("rnu" for run) each cost 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The closest candidate within edit distance 2 that keeps most of the word
 * ("p42" is not "p50"), else one the word abbreviates ("bin" for binary), if any.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of list) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance && distance * 2 < Math.max(word.length, candidate.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? (word.length >= 3 ? list.find((candidate) => candidate.startsWith(word)) : undefined);
}

/** ` (did you mean "x"?)` or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = nearest(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

/** `(a, b, c; did you mean "b"?)`: the allowed names, and the likely one. */
export function choices(word: string, candidates: Iterable<string>, none = 'none'): string {
  const list = [...candidates];
  const match = nearest(word, list);
  return `(${list.length ? list.join(', ') : none}${match === undefined ? '' : `; did you mean "${match}"?`})`;
}
