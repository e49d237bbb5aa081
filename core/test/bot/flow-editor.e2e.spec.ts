/* eslint-disable @typescript-eslint/no-explicit-any -- JSON from the API in tests */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp, type TestActor } from '../harness/test-app.js';

const ADMIN: TestActor = { roles: ['admin'], sub: 'flow-editor-admin', name: 'Flow Editor Admin' };
const AGENT: TestActor = { roles: ['agent'], sub: 'flow-editor-agent', name: 'Flow Editor Agent' };
const FLOW_YAML = readFileSync(fileURLToPath(new URL('./fixtures/order-status.flow.yaml', import.meta.url)), 'utf8').replaceAll(
  'ERP_URL',
  'https://erp.example.test',
);

describe('bot flow editor: validation with positions and dry runs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  }, 120_000);
  afterAll(() => app?.close());

  const post = async (path: string, body: unknown, actor: TestActor = ADMIN) => {
    const response = await fetch(`${app.url}/api/v1/bot/flows/${path}`, {
      method: 'POST',
      headers: { ...(await app.authHeaders(actor)), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('accepts a valid flow and returns its definition; nothing is stored', async () => {
    const { status, body } = await post('validate', { format: 'yaml', source: FLOW_YAML });
    expect(status).toBe(200);
    expect(body.problems).toEqual([]);
    expect(body.valid).toBe(true);
    expect(body.definition.steps.map((s: { id: string }) => s.id)).toEqual(['ask_order', 'lookup', 'shipped', 'not_found', 'other']);
    const flows = await fetch(`${app.url}/api/v1/bot/flows`, { headers: await app.authHeaders(ADMIN) }).then((r) => r.json() as Promise<any>);
    expect(flows.items).toEqual([]);
  });

  it('reports YAML syntax errors with their line', async () => {
    const broken = 'name: broken\nsteps:\n  - id: a\n    type: [reply\n';
    const { status, body } = await post('validate', { format: 'yaml', source: broken });
    expect(status).toBe(200);
    expect(body.valid).toBe(false);
    expect(body.problems).toHaveLength(1);
    expect(body.problems[0].message).toMatch(/^YAML: /);
    expect(body.problems[0].line).toBeGreaterThanOrEqual(4);
  });

  it('reports JSON syntax errors with line and column', async () => {
    const { body } = await post('validate', { format: 'json', source: '{\n  "name": "x",\n  "steps": [,]\n}' });
    expect(body.valid).toBe(false);
    expect(body.problems[0]).toMatchObject({ line: 3 });
    expect(body.problems[0].column).toBeGreaterThan(1);
  });

  it('locates validation problems in the source (a wrong step type, an unknown goto target)', async () => {
    const source = FLOW_YAML.replace('type: call', 'type: fetch');
    const { body } = await post('validate', { format: 'yaml', source });
    expect(body.valid).toBe(false);
    const lines = source.split('\n');
    const typeProblem = body.problems.find((p: { message: string }) => p.message.includes('.type must be one of'));
    expect(typeProblem).toMatchObject({ path: 'steps[1].type' });
    expect(lines[typeProblem.line - 1]).toContain('type: fetch');
    const badGoto = FLOW_YAML.replace('goto: not_found', 'goto: nowhere');
    const gotoProblem = (await post('validate', { format: 'yaml', source: badGoto })).body.problems[0];
    expect(gotoProblem.message).toContain('.goto must name a step');
    expect(badGoto.split('\n')[gotoProblem.line - 1]).toContain('goto: nowhere');
    // JSON sources are located too.
    const json = JSON.stringify({ name: 'j', steps: [{ id: 'a', type: 'reply', text: 'hi', next: 'missing' }] }, null, 2);
    const jsonCheck = (await post('validate', { format: 'json', source: json })).body;
    expect(json.split('\n')[jsonCheck.problems[0].line - 1]).toContain('"next": "missing"');
  });

  it('dry-runs a flow: rejects an invalid order number, fills the slot, follows the branch on the simulated result', async () => {
    const { status, body } = await post('dry-run', {
      format: 'yaml',
      source: FLOW_YAML,
      language: 'en',
      messages: ['where is my order?', 'no idea', 'it is SO-20240001'],
      results: { order: { ok: true, httpStatus: 200, data: { status: 'shipped', carrier: 'SF Express', eta: '2026-11-25' } } },
    });
    expect(status).toBe(200);
    expect(body.triggerPhraseMatched).toBe(true);
    expect(body.outcome).toBe('done');
    expect(body.slots).toEqual({ order_number: 'SO-20240001' });
    const botLines = body.transcript.filter((line: { from: string }) => line.from === 'bot').map((line: { text: string }) => line.text);
    expect(botLines[0]).toMatch(/What is your order number/);
    expect(botLines[1]).toMatch(/doesn't look like an order number/);
    expect(botLines[2]).toBe('Order SO-20240001 has shipped with SF Express, expected on 2026-11-25.');
    const call = body.trace.find((step: { stepId: string; note: string }) => step.stepId === 'lookup' && step.note.startsWith('GET'));
    expect(call.note).toContain('https://erp.example.test/orders/SO-20240001 (not sent)');
    expect(body.trace.some((step: { note: string }) => step.note === 'branch → shipped')).toBe(true);
  });

  it('dry-runs in Chinese with the slot taken from the first message and a 404 result', async () => {
    const { body } = await post('dry-run', {
      format: 'yaml',
      source: FLOW_YAML,
      language: 'zh',
      messages: ['查订单 SO-20249999'],
      results: { order: { ok: false, httpStatus: 404, data: null } },
    });
    expect(body.outcome).toBe('done');
    expect(body.transcript.at(-1)).toEqual({ from: 'bot', text: '没有找到订单 SO-20249999，请核对订单号。' });
  });

  it('hands over when attempts run out, and refuses an invalid flow with 400 bot_flow_invalid', async () => {
    const { body } = await post('dry-run', { format: 'yaml', source: FLOW_YAML, messages: ['order status', 'a', 'b', 'c'] });
    expect(body.outcome).toBe('handover');
    const invalid = await post('dry-run', { format: 'yaml', source: 'name: x\nsteps: []\n', messages: ['hi'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('bot_flow_invalid');
    expect(invalid.body.error.details.problems[0].message).toMatch(/steps must be a list/);
  });

  it('is for admins and supervisors only; bad input is a 400', async () => {
    expect((await post('validate', { format: 'yaml', source: FLOW_YAML }, AGENT)).status).toBe(403);
    const bad = await post('validate', { format: 'toml', source: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBeTruthy();
  });
});
