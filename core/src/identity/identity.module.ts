import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessPolicy } from './access-policy.js';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { TokenVerifier } from './oidc/token-verifier.js';
import { UsersService } from './users.service.js';
import { TeamsService } from './teams.service.js';
import { ApiKeysService } from './api-keys.service.js';
import { SessionsService } from './sessions.service.js';
import { OidcLoginService } from './oidc/oidc-login.service.js';
import { LocalLoginService } from './local-login.service.js';
import { AuthController } from './auth.controller.js';
import { ApiKeysController, TeamsController, UsersController } from './identity.controller.js';

@Global()
@Module({
  controllers: [AuthController, TeamsController, UsersController, ApiKeysController],
  providers: [
    OidcLoginService,
    LocalLoginService,
    AccessPolicy,
    TokenVerifier,
    UsersService,
    TeamsService,
    ApiKeysService,
    SessionsService,
    Authenticator,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AccessPolicy, Authenticator, UsersService, TeamsService, ApiKeysService, TokenVerifier],
})
export class IdentityModule {}
