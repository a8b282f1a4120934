/**
 * The plan of an interleaved run, pure: how many rounds, how many samples each
 * slot (a cell, or a cell on one side of an A/B run) takes per round, and the
 * shuffled order of the slots in every round, drawn from a recorded seed so the
 * order can be replayed and audited.
 */
import { createRng } from '../stats/random.ts';

/** Rounds when none are asked for: enough for a paired test to reach p < 0.001 (2/2^20), few enough that a round's k samples are more than one. */
export const DEFAULT_ROUNDS = 20;

export interface SlotNeed {
  key: string;
  /** Samples the slot must have in the end (the cell's planned iterations). */
  iterations: number;
}

export interface RoundPlan {
  rounds: number;
  /** Samples per round, by slot key: k. */
  perRound: Record<string, number>;
  seed: number;
  /** Slot keys in the order they run, one list per round. */
  order: string[][];
}

export interface RoundOptions {
  /** --rounds: R rounds; each slot takes ⌈iterations / R⌉ per round. */
  rounds?: number;
  /** --per-round: k samples per round for every slot; R = ⌈most iterations / k⌉. */
  perRound?: number;
  seed: number;
}

/**
 * With k samples per round, a slot of n iterations ends with R·k ≥ n samples;
 * every slot runs in every round so each round pairs all of them. Without
 * either option: R = min(DEFAULT_ROUNDS, most iterations), k = ⌈n / R⌉.
 */
export function planRounds(slots: readonly SlotNeed[], options: RoundOptions): RoundPlan {
  for (const [name, value] of [['rounds', options.rounds], ['per-round', options.perRound]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new RangeError(`--${name}: expected a whole number >= 1, found ${value}`);
  }
  const most = Math.max(1, ...slots.map((slot) => slot.iterations));
  const perRound: Record<string, number> = {};
  let rounds: number;
  if (options.perRound !== undefined) {
    rounds = options.rounds ?? Math.ceil(most / options.perRound);
    for (const slot of slots) perRound[slot.key] = options.perRound;
  } else {
    rounds = options.rounds ?? Math.min(DEFAULT_ROUNDS, most);
    for (const slot of slots) perRound[slot.key] = Math.max(1, Math.ceil(slot.iterations / rounds));
  }
  return { rounds, perRound, seed: options.seed, order: roundOrders(slots.map((slot) => slot.key), rounds, options.seed) };
}

/** One Fisher–Yates shuffle (Durstenfeld 1964) of the keys per round, from one seeded generator. */
export function roundOrders(keys: readonly string[], rounds: number, seed: number): string[][] {
  const rng = createRng(seed);
  return Array.from({ length: rounds }, () => {
    const order = [...keys];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  });
}

/** A fresh seed for a run that was given none; recorded in the artifact either way. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
