import { describe, expect, it } from 'vitest';
import { cacheUntilFailure } from '../../../sandbox-core/backends/cache-until-failure.ts';

describe('cacheUntilFailure', () => {
  it('makes the promise once and shares it, also with calls made while it is pending', async () => {
    let made = 0;
    const cached = cacheUntilFailure(async () => ++made);
    const [a, b] = await Promise.all([cached(), cached()]);
    expect([a, b, await cached(), made]).toEqual([1, 1, 1, 1]);
  });

  it('forgets a rejection, so the next call tries again and its success is kept', async () => {
    let made = 0;
    const cached = cacheUntilFailure(async () => {
      made += 1;
      if (made === 1) throw new Error('first build failed');
      return made;
    });
    await expect(cached()).rejects.toThrow('first build failed');
    expect(await cached()).toBe(2);
    expect(await cached()).toBe(2);
    expect(made).toBe(2);
  });
});
