import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backends, startTestApp, type Backend, type TestApp } from '../harness/test-app.js';
import { AuditService } from '../../src/compliance/audit/audit.service.js';
import { DATA_SOURCE } from '../../src/platform/database/database.tokens.js';
import { AuditRow } from '../../src/compliance/audit/audit.entity.js';
import { chainHash } from '../../src/compliance/audit/audit-chain.js';
import type { DataSource } from 'typeorm';
import { cli } from './cli.js';

describe.each(backends().map((backend) => [backend.name, backend] as const))('tamper-evident audit log on %s', (_name, backend: Backend) => {
  let app: TestApp;
  let env: Record<string, string>;
  let auditor: Record<string, string>;

  beforeAll(async () => {
    env = await backend.env();
    app = await startTestApp({ env });
    auditor = await app.authHeaders({ roles: ['auditor'], sub: 'chain-auditor' });
    const audit = app.app.get(AuditService);
    const actor = { kind: 'user' as const, id: 'u-1' };
    // Concurrent appends from many callers must still form one chain.
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        audit.record({
          actor,
          action: index % 2 ? 'contact.viewed' : 'contact.exported',
          objectType: 'contact',
          objectId: `c-${index}`,
          outcome: 'success',
          ip: '10.0.0.1',
          details: { 客服: '🎧', n: index },
        }),
      ),
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  const sql = (text: string) => app.app.get<DataSource>(DATA_SOURCE).query(text);

  it('lets auditors query and export it, and refuses other roles', async () => {
    const list = await fetch(`${app.url}/api/v1/audit?action=contact.viewed`, { headers: auditor });
    expect(list.status).toBe(200);
    const { items } = (await list.json()) as { items: Array<{ objectId: string; details: Record<string, unknown>; ip: string }> };
    expect(items).toHaveLength(10);
    expect(items[0]).toMatchObject({ ip: '10.0.0.1', details: { 客服: '🎧' } });
    const csv = await fetch(`${app.url}/api/v1/audit/export?format=csv&objectType=contact`, { headers: auditor });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(21);
    const ndjson = await fetch(`${app.url}/api/v1/audit/export?objectType=contact`, { headers: auditor });
    expect((await ndjson.text()).trim().split('\n')).toHaveLength(20);
    const agent = await app.authHeaders({ roles: ['agent', 'supervisor'], teamIds: ['team-a'] });
    expect((await fetch(`${app.url}/api/v1/audit`, { headers: agent })).status).toBe(403);
  });

  it('verifies intact, then `switchboard audit verify` names a row edited directly in the database', async () => {
    const intact = await cli(env, ['audit', 'verify']);
    expect(intact.stdout).toMatch(/Audit log intact/);
    expect(intact.code).toBe(0);

    await sql("UPDATE audit_log SET object_id = 'c-999' WHERE seq = 3");
    const edited = await cli(env, ['audit', 'verify']);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain('seq 3: edited');

    const api = await fetch(`${app.url}/api/v1/audit/verify`, { headers: auditor });
    expect(await api.json()).toMatchObject({ ok: false, problems: [{ seq: 3, problem: 'edited' }] });
  });

  it('names deleted rows, and a row re-hashed by someone who knows the algorithm', async () => {
    await sql('DELETE FROM audit_log WHERE seq = 7');
    // Forge row 10's content and recompute its own hash: only its successor's link gives it away.
    const repo = app.app.get<DataSource>(DATA_SOURCE).getRepository(AuditRow);
    const row = (await repo.findOneBy({ seq: 10 }))!;
    row.objectId = 'c-forged';
    const forgedHash = chainHash(row.prevHash, row);
    await repo.update({ seq: 10 }, { objectId: 'c-forged', hash: forgedHash });
    const { code, stdout } = await cli(env, ['audit', 'verify']);
    expect(code).toBe(1);
    expect(stdout).toContain('seq 3: edited');
    expect(stdout).toContain('seq 7: deleted');
    expect(stdout).toContain('seq 10: chain_broken');
    expect(stdout).not.toContain('seq 10: edited');
    const json = JSON.parse((await cli(env, ['audit', 'verify', '--json'])).stdout) as { problems: Array<{ seq: number; problem: string }> };
    expect(json.problems.map((problem) => `${problem.seq}:${problem.problem}`)).toEqual(expect.arrayContaining(['3:edited', '7:deleted', '10:chain_broken']));
  });
});
