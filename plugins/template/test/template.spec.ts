import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startTestCore, type TestCore } from '@switchboard/plugin-sdk/testing';

let core: TestCore;
let inboxId: string;

beforeAll(async () => {
  core = await startTestCore({ plugins: [new URL('..', import.meta.url)] });
  inboxId = (await core.createInbox({ name: 'Template', channel: 'template' })).id;
  await core.addInstance('template', { inboxId, config: { token: 'a-long-enough-token' } });
});
afterAll(() => core?.close());

it('stores an authenticated message and refuses a bad token', async () => {
  const headers = { authorization: 'Bearer a-long-enough-token' };
  const ok = await core.request('POST', `/plugins/template/${inboxId}/incoming`, { headers, body: { id: 'm1', from: 'alice', text: 'hi' } });
  expect(ok.status).toBe(202);
  expect((await core.messages(ok.json.conversationId)).map((m) => m.text)).toEqual(['hi']);

  const bad = await core.request('POST', `/plugins/template/${inboxId}/incoming`, {
    headers: { authorization: 'Bearer nope' },
    body: { id: 'm2', from: 'x', text: 'y' },
  });
  expect(bad.status).toBe(401);
});
