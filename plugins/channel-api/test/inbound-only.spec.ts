import { describe, expect, it } from '@jest/globals';
import plugin from '../src/index.js';

/**
 * Without a webhookUrl the channel is inbound only: replies are not pushed, and the operator is told once per
 * instance instead of once per reply. The context is a test double: only `config` and `logger` are used on this path.
 */
describe('channel-api without a webhookUrl', () => {
  it('accepts every reply and warns once per instance', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (message: string) => void warnings.push(message), error: () => undefined };
    const ctx = { config: { secret: 'x'.repeat(32) }, logger } as unknown as Parameters<NonNullable<typeof plugin.channel>['send']>[1];
    const reply = (n: number) =>
      ({ messageId: `m-${n}`, conversationId: 'c-1', seq: n, text: 'hi', authorType: 'agent', attempt: 1 }) as unknown as Parameters<
        NonNullable<typeof plugin.channel>['send']
      >[0];
    for (let n = 1; n <= 3; n++) expect(await plugin.channel!.send(reply(n), ctx)).toEqual({ externalId: 'no-webhook' });
    expect(warnings).toEqual(['replies are not pushed: no webhookUrl configured (inbound only)']);

    const otherInstance = { ...ctx, logger: { ...logger } } as typeof ctx;
    await plugin.channel!.send(reply(4), otherInstance);
    expect(warnings).toHaveLength(2);
  });
});
