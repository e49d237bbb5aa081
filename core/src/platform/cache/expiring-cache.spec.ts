import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ExpiringCache } from './expiring-cache.js';

describe('ExpiringCache', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('returns fresh values, forgets them after the TTL, and on delete or clear', () => {
    jest.useFakeTimers({ now: new Date('2026-11-22T08:00:00Z') });
    const cache = new ExpiringCache<string, number>(2_000);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    jest.setSystemTime(new Date('2026-11-22T08:00:01.999Z'));
    expect(cache.get('a')).toBe(1);
    jest.setSystemTime(new Date('2026-11-22T08:00:02.000Z'));
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 3);
    expect(cache.get('a')).toBe(3);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    cache.set('c', 4);
    cache.clear();
    expect(cache.get('c')).toBeUndefined();
  });

  it('starts over when full, but not for a key it already holds', () => {
    const cache = new ExpiringCache<number, string>(60_000, 3);
    cache.set(1, 'one');
    cache.set(2, 'two');
    cache.set(3, 'three');
    cache.set(3, 'three again');
    expect(cache.get(1)).toBe('one');
    cache.set(4, 'four');
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(4)).toBe('four');
  });
});
