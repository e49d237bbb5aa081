import { describe, expect, it } from '@jest/globals';
import { KeyedSerializer } from '../../src/platform/concurrency/keyed-serializer.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedSerializer', () => {
  it('runs one piece of work per key at a time, in order, and different keys side by side', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const work = (key: string, index: number, ms: number) =>
      serializer.run(key, async () => {
        running++;
        peak = Math.max(peak, running);
        log.push(`${key}${index}:start`);
        await tick(ms);
        log.push(`${key}${index}:end`);
        running--;
        return `${key}${index}`;
      });
    const results = await Promise.all([work('a', 1, 30), work('a', 2, 1), work('b', 1, 5), work('a', 3, 1), work('b', 2, 1)]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3', 'b2']);
    const a = log.filter((entry) => entry.startsWith('a'));
    expect(a).toEqual(['a1:start', 'a1:end', 'a2:start', 'a2:end', 'a3:start', 'a3:end']);
    // b finished both of its pieces while a1 was still running.
    expect(log.indexOf('b2:end')).toBeLessThan(log.indexOf('a1:end'));
    expect(peak).toBe(2);
  });

  it('gives a failure to its caller alone and goes on with the next piece for the key', async () => {
    const serializer = new KeyedSerializer();
    const failing = serializer.run('k', async () => {
      await tick(5);
      throw new Error('send failed');
    });
    const next = serializer.run('k', async () => 'delivered');
    await expect(failing).rejects.toThrow('send failed');
    await expect(next).resolves.toBe('delivered');
    await serializer.idle();
  });
});
