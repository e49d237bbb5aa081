import { hash, verify } from '@node-rs/argon2';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { appendAuditEntry } from '../compliance/audit/audit.service.js';
import { LocalCredentialRow } from './entities/session.entity.js';
import { UserRow } from './entities/user.entity.js';
import { LOCAL_ISSUER, subjectKey } from './users.service.js';

/** argon2id (algorithm 2), OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane. */
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, ARGON2);

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Creates (or resets the password of) a local admin: an `identity_users` row with issuer `local`
 * and an argon2id credential. Used by `switchboard admin create` and the first-start bootstrap.
 * Returns `created: false` when `onlyIfNone` and a local credential already exists.
 */
export async function createLocalAdmin(
  dataSource: DataSource,
  input: { username: string; password: string; onlyIfNone?: boolean; actorId?: string },
): Promise<{ created: boolean; userId?: string }> {
  if (!USERNAME_PATTERN.test(input.username)) throw new Error('the username may hold letters, digits and "_.@-" (1–64)');
  if (input.password.length < 12) throw new Error('the password must be at least 12 characters');
  const passwordHash = await hashPassword(input.password);
  return dataSource.transaction(async (manager) => {
    if (input.onlyIfNone && (await manager.count(LocalCredentialRow)) > 0) return { created: false };
    const now = new Date();
    const key = subjectKey(LOCAL_ISSUER, input.username);
    let user = await manager.findOneBy(UserRow, { subjectKey: key });
    if (!user) {
      user = Object.assign(new UserRow(), {
        id: randomUUID(),
        issuer: LOCAL_ISSUER,
        subject: input.username,
        subjectKey: key,
        displayName: input.username,
        email: null,
        roles: ['admin'],
        idpTeamIds: [],
        active: true,
        createdAt: now,
        lastLoginAt: null,
      });
      await manager.insert(UserRow, user);
    } else {
      if (!user.roles.includes('admin')) user.roles = [...user.roles, 'admin'];
      user.active = true;
      await manager.save(UserRow, user);
    }
    const existing = await manager.findOneBy(LocalCredentialRow, { username: input.username });
    if (existing) await manager.update(LocalCredentialRow, { username: input.username }, { passwordHash, updatedAt: now, userId: user.id });
    else await manager.insert(LocalCredentialRow, { username: input.username, userId: user.id, passwordHash, updatedAt: now });
    await appendAuditEntry(
      manager,
      {
        actor: { kind: 'system', id: input.actorId ?? 'cli' },
        action: existing ? 'local_admin.password_reset' : 'local_admin.created',
        objectType: 'user',
        objectId: user.id,
        outcome: 'success',
        details: { username: input.username },
      },
      now,
    );
    return { created: true, userId: user.id };
  });
}

// A valid argon2id hash of a random password, verified against when the username is unknown so
// that unknown and known usernames take the same time.
let dummyHash: Promise<string> | undefined;

/** The user id for a correct username/password, else null. */
export async function verifyLocalPassword(dataSource: DataSource, username: string, password: string): Promise<string | null> {
  const credential = USERNAME_PATTERN.test(username) ? await dataSource.getRepository(LocalCredentialRow).findOneBy({ username }) : null;
  if (!credential) {
    dummyHash ??= hashPassword(generatePassword());
    await verify(await dummyHash, password).catch(() => false);
    return null;
  }
  const ok = await verify(credential.passwordHash, password).catch(() => false);
  return ok ? credential.userId : null;
}
