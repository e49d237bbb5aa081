import { TurnCoalescer } from './turn-coalescer.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnCoalescer', () => {
  it('runs calls queued from separate callbacks of one turn together, after them, in order', async () => {
    const coalescer = new TurnCoalescer();
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        await Promise.resolve();
        coalescer.run(() => order.push(name));
        order.push(`queued ${name}`);
      }),
    );
    expect(order).toEqual(['queued a', 'queued b', 'queued c']);
    await nextTurn();
    expect(order).toEqual(['queued a', 'queued b', 'queued c', 'a', 'b', 'c']);
  });

  it('flush runs what is queued at once and only once', async () => {
    const coalescer = new TurnCoalescer();
    let runs = 0;
    coalescer.run(() => runs++);
    coalescer.flush();
    expect(runs).toBe(1);
    await nextTurn();
    expect(runs).toBe(1);
  });

  it('a failing call is reported and does not stop the others', async () => {
    const errors: unknown[] = [];
    const coalescer = new TurnCoalescer((error) => errors.push(error));
    let ran = false;
    coalescer.run(() => {
      throw new Error('connection closed');
    });
    coalescer.run(() => (ran = true));
    await nextTurn();
    expect(ran).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
