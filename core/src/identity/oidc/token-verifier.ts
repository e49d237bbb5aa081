import { Inject, Injectable, Logger } from '@nestjs/common';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { APP_CONFIG } from '../../platform/config/config.module.js';
import type { AppConfig, IdentityConfig } from '../../platform/config/app-config.js';
import { IdentityError } from '../identity.error.js';

/** The parts of the OIDC discovery document Switchboard uses. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  end_session_endpoint?: string;
  [key: string]: unknown;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function insecureHttpAllowed(config: IdentityConfig['oidc']): boolean {
  if (!config.issuerUrl) return false;
  const url = new URL(config.issuerUrl);
  return url.protocol === 'http:' && (config.allowInsecureHttp || LOOPBACK.has(url.hostname));
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000), redirect: 'error' });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/**
 * The realm's signing keys. An unknown `kid` triggers at most one refetch per cooldown; callers
 * that arrive while a refetch runs wait for it instead of failing (no 401 storm on rotation).
 */
export class JwksCache {
  private local?: JWTVerifyGetKey;
  private generation = 0;
  private fetchedAt = 0;
  private lastForcedAt = Number.NEGATIVE_INFINITY;
  private pending?: Promise<void>;
  /** Number of JWKS downloads so far (observability and tests). */
  fetches = 0;

  constructor(
    private readonly uri: string,
    private readonly cooldownMs: number,
    private readonly maxAgeMs = 10 * 60_000,
  ) {}

  private reload(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const jwks = (await fetchJson(this.uri)) as JSONWebKeySet;
        if (!jwks || !Array.isArray(jwks.keys)) throw new Error('the JWKS has no "keys" array');
        this.fetches++;
        this.local = createLocalJWKSet(jwks);
        this.generation++;
        this.fetchedAt = Date.now();
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.local) await this.reload();
    else if (Date.now() - this.fetchedAt > this.maxAgeMs) await this.reload().catch(() => undefined);
    const seen = this.generation;
    try {
      return await this.local!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (this.pending) await this.pending;
      else if (this.generation === seen) {
        if (Date.now() - this.lastForcedAt < this.cooldownMs) throw error;
        this.lastForcedAt = Date.now();
        await this.reload();
      }
      return this.local!(header, token);
    }
  };
}

export interface VerifiedToken {
  payload: JWTPayload & Record<string, unknown>;
}

/**
 * Bearer access-token verification against the configured realm (jose): pinned asymmetric
 * algorithms, exact `iss`, required `aud`, allowed `azp`, `exp`/`nbf` with a small leeway,
 * and ID tokens refused.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger('oidc');
  private metadata?: Promise<IssuerMetadata>;
  private jwks?: JwksCache;
  private readonly oidc: IdentityConfig['oidc'];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.oidc = config.identity.oidc;
  }

  get configured(): boolean {
    return Boolean(this.oidc.issuerUrl);
  }

  /** Discovery document of the issuer (cached; retried after a failure). */
  async discover(): Promise<IssuerMetadata> {
    const issuer = this.oidc.issuerUrl;
    if (!issuer) throw new IdentityError('oidc_not_configured', 'Single sign-on is not configured.');
    this.metadata ??= (async () => {
      const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const document = (await fetchJson(url)) as IssuerMetadata;
      if (document.issuer !== issuer) throw new Error(`the discovery document names issuer "${document.issuer}", expected exactly "${issuer}"`);
      if (typeof document.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
      if (new URL(document.jwks_uri).protocol !== 'https:' && !insecureHttpAllowed(this.oidc)) throw new Error('jwks_uri must use https');
      return document;
    })();
    try {
      return await this.metadata;
    } catch (error) {
      this.metadata = undefined;
      this.logger.warn({ reason: (error as Error).message }, 'OIDC discovery failed');
      throw new IdentityError('oidc_unavailable', 'The identity provider cannot be reached; retry shortly.');
    }
  }

  /** JWKS download count, for observability and tests. */
  get jwksFetches(): number {
    return this.jwks?.fetches ?? 0;
  }

  private async keys(): Promise<JwksCache> {
    const metadata = await this.discover();
    this.jwks ??= new JwksCache(metadata.jwks_uri, this.oidc.jwksCooldownMs);
    return this.jwks;
  }

  /** Verifies a bearer access token; throws an `invalid_token` IdentityError with a reason. */
  async verifyAccessToken(token: string): Promise<VerifiedToken> {
    const reject = (description: string) =>
      new IdentityError(
        'invalid_token',
        'The access token is invalid.',
        { reason: description },
        `Bearer realm="switchboard", error="invalid_token", error_description="${description}"`,
      );
    if (!this.configured) throw reject('bearer tokens are not accepted: no identity provider is configured');
    const keys = await this.keys();
    let payload: JWTPayload & Record<string, unknown>;
    try {
      const result = await jwtVerify(token, keys.getKey, {
        issuer: this.oidc.issuerUrl,
        audience: this.oidc.audience,
        algorithms: this.oidc.algorithms,
        clockTolerance: this.oidc.clockLeewaySeconds,
        requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      });
      payload = result.payload as JWTPayload & Record<string, unknown>;
    } catch (error) {
      throw reject(describeJoseError(error));
    }
    // Keycloak marks ID tokens `typ: "ID"`; they also carry nonce/at_hash, which access tokens never do.
    const typ = payload.typ;
    if ((typeof typ === 'string' && typ.toLowerCase() !== 'bearer') || 'nonce' in payload || 'at_hash' in payload) {
      throw reject('not an access token');
    }
    const allowed = this.oidc.allowedClients.length ? this.oidc.allowedClients : [this.oidc.clientId];
    if (!allowed.includes('*')) {
      if (typeof payload.azp !== 'string' || !allowed.includes(payload.azp)) throw reject('azp is not an allowed client');
    }
    return { payload };
  }

  /**
   * OpenID Back-Channel Logout 1.0 logout token: signed by the realm, `aud` is the console
   * client, carries the back-channel-logout event and `sid` or `sub`, and never a nonce.
   */
  async verifyLogoutToken(token: string): Promise<LogoutClaims> {
    if (!this.configured) throw new IdentityError('oidc_not_configured', 'Single sign-on is not configured.');
    const keys = await this.keys();
    const { payload } = await jwtVerify(token, keys.getKey, {
      issuer: this.oidc.issuerUrl,
      audience: this.oidc.clientId,
      algorithms: this.oidc.algorithms,
      clockTolerance: this.oidc.clockLeewaySeconds,
      requiredClaims: ['iss', 'aud', 'iat', 'jti', 'events'],
      maxTokenAge: '10 minutes',
    });
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events !== 'object' || !('http://schemas.openid.net/event/backchannel-logout' in events)) throw new Error('not a logout token');
    if ('nonce' in payload) throw new Error('a logout token must not carry a nonce');
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    if (!sid && !sub) throw new Error('a logout token needs sid or sub');
    return { sid, sub };
  }
}

/** Back-channel logout token claims that matter. */
export interface LogoutClaims {
  sid?: string;
  sub?: string;
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'token not yet valid';
    return `${error.claim} claim invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'signing algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown signing key';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed token';
  if (error instanceof errors.JOSENotSupported) return 'unsupported token';
  if (error instanceof IdentityError) return 'identity provider unavailable';
  return 'token could not be verified';
}
