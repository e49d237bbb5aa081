import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { AuditService } from '../compliance/audit/audit.service.js';
import { Public } from './decorators/public.decorator.js';
import { CurrentActor } from './decorators/current-actor.decorator.js';
import type { Actor } from './actor.js';
import { Authenticator } from './authenticator.js';
import { SessionsService } from './sessions.service.js';
import { OidcLoginService, safeReturnTo } from './oidc/oidc-login.service.js';
import { TokenVerifier } from './oidc/token-verifier.js';
import { LocalLoginService } from './local-login.service.js';
import { UsersService } from './users.service.js';
import { IdentityError } from './identity.error.js';
import { LocalLoginDto } from './dto/identity.dto.js';
import { parseCookies, serializeCookie } from './cookies.js';

export const CSRF_COOKIE = 'sb_csrf';

/** Console sign-in and sign-out: OIDC code + PKCE, local login, logout, back-channel logout. */
@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly authenticator: Authenticator,
    private readonly sessions: SessionsService,
    private readonly oidc: OidcLoginService,
    private readonly verifier: TokenVerifier,
    private readonly local: LocalLoginService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  private base(request: FastifyRequest): string {
    if (this.config.http.publicUrl) return this.config.http.publicUrl.replace(/\/$/, '');
    return `${request.protocol}://${request.headers.host ?? `${this.config.http.host}:${this.config.http.port}`}`;
  }

  private redirectUri(request: FastifyRequest): string {
    return `${this.base(request)}/api/v1/auth/callback`;
  }

  private setSessionCookies(reply: FastifyReply, token: string, csrfToken: string, expiresAt: Date): void {
    const secure = this.config.identity.session.cookieSecure;
    const maxAgeSeconds = (expiresAt.getTime() - Date.now()) / 1000;
    void reply.header('set-cookie', [
      serializeCookie(this.config.identity.session.cookieName, token, { httpOnly: true, secure, sameSite: 'Lax', maxAgeSeconds }),
      // Readable by the console's script, which echoes it in X-CSRF-Token.
      serializeCookie(CSRF_COOKIE, csrfToken, { httpOnly: false, secure, sameSite: 'Strict', maxAgeSeconds }),
    ]);
  }

  private clearSessionCookies(reply: FastifyReply): void {
    const secure = this.config.identity.session.cookieSecure;
    void reply.header('set-cookie', [
      serializeCookie(this.config.identity.session.cookieName, '', { httpOnly: true, secure, sameSite: 'Lax', maxAgeSeconds: 0 }),
      serializeCookie(CSRF_COOKIE, '', { secure, sameSite: 'Strict', maxAgeSeconds: 0 }),
    ]);
  }

  @Public()
  @Get('config')
  @ApiOperation({ summary: 'Which sign-in methods are on (for the console login page)' })
  loginOptions(): { oidc: boolean; localLogin: boolean } {
    return { oidc: this.oidc.enabled, localLogin: this.local.enabled };
  }

  @Public()
  @Get('login')
  @ApiOperation({ summary: 'Start single sign-on: redirects to the identity provider (code + PKCE)' })
  async login(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('returnTo') returnTo?: string): Promise<void> {
    const url = await this.oidc.start(this.redirectUri(request), safeReturnTo(returnTo));
    void reply.header('cache-control', 'no-store').redirect(url.toString(), 302);
  }

  @Public()
  @Get('callback')
  @ApiOperation({ summary: 'OIDC redirect target: finishes the login and sets the session cookie' })
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const callbackUrl = new URL(request.url, 'http://callback.invalid');
    try {
      const error = callbackUrl.searchParams.get('error');
      if (error) throw new IdentityError('login_failed', 'The identity provider refused the login.', { reason: error.slice(0, 64) });
      const login = await this.oidc.finish(callbackUrl, this.redirectUri(request));
      const actor = await this.authenticator.actorFromClaims(login.claims, { ip: request.ip, login: true });
      const session = await this.sessions.create({ userId: actor.id, method: 'oidc', sid: login.sid, idToken: login.idToken });
      await this.audit.record({
        actor,
        action: 'auth.login',
        objectType: 'session',
        objectId: session.publicId,
        outcome: 'success',
        ip: request.ip,
        details: { method: 'oidc' },
      });
      this.setSessionCookies(reply, session.token, session.csrfToken, session.expiresAt);
      void reply.header('cache-control', 'no-store').redirect(login.returnTo ?? '/', 302);
    } catch (error) {
      const reason = error instanceof IdentityError ? ((error.details as { reason?: string } | undefined)?.reason ?? error.code) : 'error';
      await this.audit.record({
        actor: null,
        action: 'auth.login',
        objectType: 'session',
        outcome: 'failure',
        ip: request.ip,
        details: { method: 'oidc', reason },
      });
      throw error;
    }
  }

  @Public()
  @Post('local/login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Embedded-mode local login (argon2id); sets the session cookie' })
  async localLogin(@Body() body: LocalLoginDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!this.local.enabled) throw new IdentityError('local_login_disabled', 'Local login is disabled.');
    const userId = await this.local.verify(body.username, body.password);
    const user = userId ? await this.users.getRow(userId) : null;
    if (!user) {
      await this.audit.record({
        actor: null,
        action: 'auth.login',
        objectType: 'user',
        outcome: 'failure',
        ip: request.ip,
        details: { method: 'local', username: body.username.slice(0, 64) },
      });
      throw new IdentityError('login_failed', 'Wrong username or password.');
    }
    let actor: Actor;
    try {
      actor = await this.authenticator.actorForUser(user);
    } catch (error) {
      await this.audit.record({
        actor: { kind: 'user', id: user.id },
        action: 'auth.login',
        objectType: 'user',
        objectId: user.id,
        outcome: 'denied',
        ip: request.ip,
        details: { method: 'local', reason: 'deactivated' },
      });
      throw error;
    }
    const session = await this.sessions.create({ userId: user.id, method: 'local' });
    await this.audit.record({
      actor,
      action: 'auth.login',
      objectType: 'session',
      objectId: session.publicId,
      outcome: 'success',
      ip: request.ip,
      details: { method: 'local' },
    });
    this.setSessionCookies(reply, session.token, session.csrfToken, session.expiresAt);
    return { user: await this.users.view(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who am I: the actor, and the CSRF token when signed in by cookie' })
  async me(@CurrentActor() actor: Actor, @Req() request: FastifyRequest) {
    const cookie = parseCookies(request.headers.cookie)[this.config.identity.session.cookieName];
    const session = actor.sessionId && cookie ? await this.sessions.find(cookie) : null;
    return { actor, csrfToken: session?.csrfToken ?? null };
  }

  @Post('logout')
  @HttpCode(200)
  @ApiOperation({ summary: 'End the console session (needs X-CSRF-Token); returns where to send the browser (RP-initiated logout)' })
  async logout(@CurrentActor() actor: Actor, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ redirectTo: string }> {
    const cookie = parseCookies(request.headers.cookie)[this.config.identity.session.cookieName];
    const session = cookie ? await this.sessions.destroy(cookie) : null;
    this.clearSessionCookies(reply);
    await this.audit.record({ actor, action: 'auth.logout', objectType: 'session', objectId: session?.publicId ?? null, outcome: 'success', ip: request.ip });
    const home = `${this.base(request)}/`;
    if (session?.method === 'oidc' && this.oidc.enabled) {
      const url = await this.oidc.endSessionUrl(session.idToken, home).catch(() => null);
      if (url) return { redirectTo: url };
    }
    return { redirectTo: home };
  }

  @Public()
  @Post('backchannel-logout')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenID back-channel logout: the IdP ends every session of a sid (or a subject)' })
  async backchannelLogout(@Body() body: Record<string, unknown>, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    void reply.header('cache-control', 'no-store');
    const token = typeof body?.logout_token === 'string' ? body.logout_token : '';
    let claims;
    try {
      claims = await this.verifier.verifyLogoutToken(token);
    } catch (error) {
      await this.audit.record({
        actor: null,
        action: 'auth.backchannel_logout',
        outcome: 'failure',
        ip: request.ip,
        details: { reason: (error as Error).message.slice(0, 120) },
      });
      void reply.status(400);
      return { error: 'invalid_request', error_description: 'The logout token is invalid.' };
    }
    let ended = 0;
    if (claims.sid) ended = await this.sessions.destroyBySid(claims.sid);
    else if (claims.sub) {
      const user = await this.users.findBySubject(this.config.identity.oidc.issuerUrl!, claims.sub);
      if (user) ended = await this.sessions.destroyByUser(user.id);
    }
    await this.audit.record({
      actor: { kind: 'system', id: 'idp' },
      action: 'auth.backchannel_logout',
      objectType: 'idp_session',
      objectId: claims.sid ?? null,
      outcome: 'success',
      ip: request.ip,
      details: { ended },
    });
    return { ended };
  }
}
