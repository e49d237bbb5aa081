import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../../platform/database/entity-columns.js';

/** A console session. The cookie carries a random id; only its SHA-256 is stored. */
@Entity('identity_sessions')
export class SessionRow {
  @PrimaryColumn({ name: 'id_hash', type: 'varchar', length: 64 })
  idHash: string;

  /** Short public id (for audit and the actor's `sessionId`). */
  @Column({ name: 'public_id', type: 'varchar', length: 36 })
  publicId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** `oidc` or `local`. */
  @Column({ type: 'varchar', length: 16 })
  method: string;

  /** The IdP's session id (`sid`), for back-channel logout. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  sid: string | null;

  @Column({ name: 'csrf_token', type: 'varchar', length: 64 })
  csrfToken: string;

  /** The ID token, kept only as `id_token_hint` for RP-initiated logout. */
  @Column({ name: 'id_token', type: 'text', nullable: true })
  idToken: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;
}

/** A login in flight: PKCE verifier, state and nonce between the redirect and the callback. */
@Entity('identity_login_states')
export class LoginStateRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  state: string;

  @Column({ name: 'code_verifier', type: 'varchar', length: 128 })
  codeVerifier: string;

  @Column({ type: 'varchar', length: 64 })
  nonce: string;

  @Column({ name: 'return_to', type: 'varchar', length: 1024, nullable: true })
  returnTo: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;
}

/** Local (embedded-mode) password credentials, argon2id. */
@Entity('identity_local_credentials')
export class LocalCredentialRow {
  @PrimaryColumn({ type: 'varchar', length: 191 })
  username: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
