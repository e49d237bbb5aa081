import { Inject, Injectable, Logger } from '@nestjs/common';
import * as oidcClient from 'openid-client';
import { randomBytes } from 'node:crypto';
import { LessThan, type DataSource } from 'typeorm';
import { APP_CONFIG } from '../../platform/config/config.module.js';
import type { AppConfig } from '../../platform/config/app-config.js';
import { DATA_SOURCE } from '../../platform/database/database.tokens.js';
import { sqlTime } from '../../platform/database/sql-time.js';
import { LoginStateRow } from '../entities/session.entity.js';
import { IdentityError } from '../identity.error.js';
import { insecureHttpAllowed, TokenVerifier } from './token-verifier.js';

const LOGIN_STATE_TTL_MS = 10 * 60_000;

/** Only same-site relative paths may be returned to after login (no open redirects). */
export function safeReturnTo(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 1000) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\r\n]/.test(value)) return null;
  return value;
}

export interface CompletedLogin {
  /** Verified claims: the access token's, with the ID token's profile claims. */
  claims: Record<string, unknown>;
  idToken: string | null;
  sid: string | null;
  returnTo: string | null;
}

/**
 * Console sign-in with openid-client: authorization code + PKCE (S256), state and nonce kept
 * server-side (any core instance can finish the login), RP-initiated logout.
 */
@Injectable()
export class OidcLoginService {
  private readonly logger = new Logger('oidc-login');
  private configuration?: Promise<oidcClient.Configuration>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly verifier: TokenVerifier,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.identity.oidc.issuerUrl);
  }

  private client(): Promise<oidcClient.Configuration> {
    const oidc = this.config.identity.oidc;
    if (!oidc.issuerUrl) throw new IdentityError('oidc_not_configured', 'Single sign-on is not configured.');
    this.configuration ??= oidcClient
      .discovery(
        new URL(oidc.issuerUrl),
        oidc.clientId,
        undefined,
        oidc.clientSecret ? oidcClient.ClientSecretPost(oidc.clientSecret) : oidcClient.None(),
        insecureHttpAllowed(oidc) ? { execute: [oidcClient.allowInsecureRequests], timeout: 5 } : { timeout: 5 },
      )
      .catch((error: Error) => {
        this.configuration = undefined;
        this.logger.warn({ reason: error.message }, 'OIDC discovery failed');
        throw new IdentityError('oidc_unavailable', 'The identity provider cannot be reached; retry shortly.');
      });
    return this.configuration;
  }

  /** The IdP URL to send the browser to. */
  async start(redirectUri: string, returnTo: string | null): Promise<URL> {
    const client = await this.client();
    const codeVerifier = oidcClient.randomPKCECodeVerifier();
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    await this.dataSource.getRepository(LoginStateRow).delete({ expiresAt: LessThan(sqlTime(this.dataSource, new Date()) as Date) });
    await this.dataSource.getRepository(LoginStateRow).insert({ state, codeVerifier, nonce, returnTo, expiresAt: new Date(Date.now() + LOGIN_STATE_TTL_MS) });
    return oidcClient.buildAuthorizationUrl(client, {
      redirect_uri: redirectUri,
      scope: this.config.identity.oidc.scopes,
      response_type: 'code',
      code_challenge: await oidcClient.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
  }

  /** Exchanges the code (checking state, nonce, PKCE) and verifies the access token like any bearer token. */
  async finish(callbackUrl: URL, redirectUri: string): Promise<CompletedLogin> {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const repo = this.dataSource.getRepository(LoginStateRow);
    const pending = state ? await repo.findOneBy({ state }) : null;
    if (!pending || pending.expiresAt.getTime() < Date.now())
      throw new IdentityError('login_failed', 'The login expired or was not started here; sign in again.', { reason: 'unknown_state' });
    // One use only, even if the exchange fails.
    const deleted = await repo.delete({ state });
    if (!deleted.affected) throw new IdentityError('login_failed', 'The login was already used; sign in again.', { reason: 'state_reused' });
    const client = await this.client();
    let tokens: Awaited<ReturnType<typeof oidcClient.authorizationCodeGrant>>;
    try {
      const current = new URL(redirectUri);
      current.search = callbackUrl.search;
      tokens = await oidcClient.authorizationCodeGrant(client, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message }, 'authorization code exchange failed');
      throw new IdentityError('login_failed', 'The identity provider did not confirm the login.', { reason: 'code_exchange_failed' });
    }
    const idClaims = (tokens.claims() ?? {}) as Record<string, unknown>;
    const { payload } = await this.verifier.verifyAccessToken(tokens.access_token).catch(() => {
      throw new IdentityError('login_failed', 'The access token from the identity provider was not accepted (check the audience mapper).', {
        reason: 'access_token_rejected',
      });
    });
    if (payload.sub !== idClaims.sub) throw new IdentityError('login_failed', 'The tokens name different users.', { reason: 'subject_mismatch' });
    const claims: Record<string, unknown> = { ...payload };
    for (const name of ['name', 'email', 'preferred_username']) if (idClaims[name] !== undefined) claims[name] = idClaims[name];
    const sid = typeof idClaims.sid === 'string' ? idClaims.sid : typeof payload.sid === 'string' ? payload.sid : null;
    return { claims, idToken: tokens.id_token ?? null, sid, returnTo: pending.returnTo };
  }

  /** RP-initiated logout URL, or null when the IdP has no end-session endpoint. */
  async endSessionUrl(idToken: string | null, postLogoutRedirectUri: string): Promise<string | null> {
    const client = await this.client();
    if (!client.serverMetadata().end_session_endpoint) return null;
    const parameters: Record<string, string> = { post_logout_redirect_uri: postLogoutRedirectUri, client_id: this.config.identity.oidc.clientId };
    if (idToken) parameters.id_token_hint = idToken;
    return oidcClient.buildEndSessionUrl(client, parameters).toString();
  }
}
