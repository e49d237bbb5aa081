/**
 * A real OpenID Provider on loopback for tests, shaped like Keycloak: discovery, JWKS,
 * authorization code + PKCE, token, end-session endpoints under /realms/<realm>/protocol/openid-connect/,
 * and `realm_access` / `resource_access` / `groups` claims. Signs with real RSA keys (jose).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export interface IssuerUser {
  sub: string;
  roles?: string[];
  /** Roles per client: resource_access[<client>].roles. */
  clientRoles?: Record<string, string[]>;
  groups?: string[];
  name?: string;
  email?: string;
  preferredUsername?: string;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface PendingCode {
  user: IssuerUser;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scope: string;
  sid: string;
}

export interface TestIssuer {
  /** The exact issuer (`iss`): http://127.0.0.1:<port>/realms/<realm>. */
  url: string;
  realm: string;
  audience: string;
  clientId: string;
  /** Count of JWKS downloads, to assert "one refetch, no storm". */
  jwksFetches: number;
  /** The user the authorization endpoint signs in (as if they typed their password). */
  loginUser: IssuerUser;
  /** IdP sessions (`sid`) alive; logout ends them. */
  sessions: Map<string, IssuerUser>;
  /** Requests to the end-session endpoint, newest last. */
  endSessionCalls: URL[];
  accessToken(user: IssuerUser, options?: MintOptions): Promise<string>;
  idToken(user: IssuerUser, options?: MintOptions): Promise<string>;
  logoutToken(claims: { sid?: string; sub?: string }, options?: MintOptions): Promise<string>;
  /** A new signing key; the old one stays published unless `dropOld`. */
  rotate(options?: { dropOld?: boolean }): Promise<void>;
  /** A key pair that is never published (for forged signatures). */
  foreignKey(): Promise<SigningKey>;
  currentKey(): SigningKey;
  close(): Promise<void>;
}

export interface MintOptions {
  /** Claims merged over the defaults (undefined removes a claim). */
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: SigningKey;
  alg?: string;
  expiresInSeconds?: number;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

const b64url = (buffer: Buffer) => buffer.toString('base64url');

async function readBody(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export async function startTestIssuer(options: { realm?: string; audience?: string; clientId?: string } = {}): Promise<TestIssuer> {
  const realm = options.realm ?? 'switchboard';
  const audience = options.audience ?? 'switchboard-api';
  const clientId = options.clientId ?? 'switchboard-console';
  const keys: SigningKey[] = [await newKey()];
  const codes = new Map<string, PendingCode>();
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => send(response, 500, { error: 'server_error', error_description: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/realms/${realm}`;
  const oidcPath = `/realms/${realm}/protocol/openid-connect`;

  const sign = async (payload: JWTPayload, mint: MintOptions = {}): Promise<string> => {
    const key = mint.key ?? keys.at(-1)!;
    const now = Math.floor(Date.now() / 1000);
    const merged: Record<string, unknown> = {
      exp: now + (mint.expiresInSeconds ?? 300),
      iat: now,
      jti: randomUUID(),
      iss: url,
      ...payload,
      ...(mint.claims ?? {}),
    };
    for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
    return new SignJWT(merged as JWTPayload)
      .setProtectedHeader({ alg: mint.alg ?? 'RS256', typ: 'JWT', kid: key.kid, ...(mint.header ?? {}) })
      .sign(key.privateKey);
  };

  const userClaims = (user: IssuerUser) => ({
    sub: user.sub,
    name: user.name,
    email: user.email,
    preferred_username: user.preferredUsername ?? user.sub,
  });

  const issuer: TestIssuer = {
    url,
    realm,
    audience,
    clientId,
    jwksFetches: 0,
    loginUser: { sub: 'login-user', roles: ['agent'], groups: ['/team-a'], name: 'Login User', email: 'login@example.test' },
    sessions: new Map(),
    endSessionCalls: [],
    accessToken: (user, mint) =>
      sign(
        {
          ...userClaims(user),
          aud: [audience, 'account'],
          azp: clientId,
          typ: 'Bearer',
          scope: 'openid profile email',
          realm_access: { roles: [...(user.roles ?? []), 'offline_access', 'default-roles-' + realm] },
          resource_access: {
            ...Object.fromEntries(Object.entries(user.clientRoles ?? {}).map(([client, roles]) => [client, { roles }])),
            account: { roles: ['view-profile'] },
          },
          groups: user.groups ?? [],
        },
        mint,
      ),
    idToken: (user, mint) =>
      sign({ ...userClaims(user), aud: clientId, azp: clientId, typ: 'ID', at_hash: b64url(randomBytes(16)), auth_time: Math.floor(Date.now() / 1000) }, mint),
    logoutToken: (claims, mint) =>
      sign(
        { aud: clientId, typ: 'Logout', sub: claims.sub, sid: claims.sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } },
        { ...mint, header: { typ: 'logout+jwt', ...(mint?.header ?? {}) } },
      ),
    rotate: async (rotation = {}) => {
      const next = await newKey();
      if (rotation.dropOld) keys.splice(0, keys.length);
      keys.push(next);
    },
    foreignKey: newKey,
    currentKey: () => keys.at(-1)!,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestUrl = new URL(request.url ?? '/', base);
    const path = requestUrl.pathname;
    if (path === `/realms/${realm}/.well-known/openid-configuration`) {
      return send(response, 200, {
        issuer: url,
        authorization_endpoint: `${base}${oidcPath}/auth`,
        token_endpoint: `${base}${oidcPath}/token`,
        userinfo_endpoint: `${base}${oidcPath}/userinfo`,
        end_session_endpoint: `${base}${oidcPath}/logout`,
        jwks_uri: `${base}${oidcPath}/certs`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        scopes_supported: ['openid', 'profile', 'email'],
      });
    }
    if (path === `${oidcPath}/certs`) {
      issuer.jwksFetches++;
      return send(response, 200, { keys: keys.map((key) => key.publicJwk) });
    }
    if (path === `${oidcPath}/auth` && request.method === 'GET') {
      const q = requestUrl.searchParams;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== clientId || !redirectUri) return send(response, 400, { error: 'invalid_request' });
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        return send(response, 400, { error: 'invalid_request', error_description: 'PKCE S256 is required' });
      }
      // Like Keycloak's SSO: an existing IdP session (cookie) is reused, so several logins share one sid.
      const existing = /(?:^|;\s*)KEYCLOAK_SESSION=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      const sid = existing && issuer.sessions.has(existing) ? existing : randomUUID();
      const code = b64url(randomBytes(24));
      codes.set(code, {
        user: issuer.loginUser,
        clientId,
        redirectUri,
        codeChallenge: q.get('code_challenge')!,
        nonce: q.get('nonce') ?? undefined,
        scope: q.get('scope') ?? 'openid',
        sid,
      });
      issuer.sessions.set(sid, issuer.loginUser);
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      if (q.get('state')) target.searchParams.set('state', q.get('state')!);
      target.searchParams.set('session_state', sid);
      target.searchParams.set('iss', url);
      response.writeHead(302, { location: target.toString(), 'set-cookie': `KEYCLOAK_SESSION=${sid}; Path=/realms/${realm}; HttpOnly` });
      return void response.end();
    }
    if (path === `${oidcPath}/token` && request.method === 'POST') {
      const form = await readBody(request);
      const code = form.get('code') ?? '';
      const pending = codes.get(code);
      codes.delete(code);
      if (form.get('grant_type') !== 'authorization_code' || !pending) return send(response, 400, { error: 'invalid_grant' });
      if (form.get('redirect_uri') !== pending.redirectUri || (form.get('client_id') ?? clientId) !== pending.clientId)
        return send(response, 400, { error: 'invalid_grant' });
      const verifier = form.get('code_verifier') ?? '';
      if (b64url(createHash('sha256').update(verifier).digest()) !== pending.codeChallenge)
        return send(response, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      const accessToken = await issuer.accessToken(pending.user, { claims: { sid: pending.sid } });
      const idToken = await sign(
        {
          ...userClaims(pending.user),
          aud: clientId,
          azp: clientId,
          typ: 'ID',
          nonce: pending.nonce,
          sid: pending.sid,
          auth_time: Math.floor(Date.now() / 1000),
          at_hash: b64url(createHash('sha256').update(accessToken).digest().subarray(0, 16)),
        },
        {},
      );
      return send(response, 200, {
        access_token: accessToken,
        id_token: idToken,
        token_type: 'Bearer',
        expires_in: 300,
        scope: pending.scope,
        session_state: pending.sid,
      });
    }
    if (path === `${oidcPath}/logout`) {
      issuer.endSessionCalls.push(requestUrl);
      const hint = requestUrl.searchParams.get('id_token_hint');
      if (hint) {
        const claims = JSON.parse(Buffer.from(hint.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sid?: string };
        if (claims.sid) issuer.sessions.delete(claims.sid);
      }
      const redirect = requestUrl.searchParams.get('post_logout_redirect_uri');
      if (redirect) {
        const target = new URL(redirect);
        const state = requestUrl.searchParams.get('state');
        if (state) target.searchParams.set('state', state);
        response.writeHead(302, { location: target.toString() });
        return void response.end();
      }
      return send(response, 200, { loggedOut: true });
    }
    send(response, 404, { error: 'not_found' });
  }

  return issuer;
}
