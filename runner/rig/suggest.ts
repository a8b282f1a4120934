/** "did you mean ...?" for misspelt keys and names. */

/** Levenshtein distance (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
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
