import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { APP_CONFIG } from '../platform/config/config.module.js';
import type { AppConfig } from '../platform/config/app-config.js';
import { DATA_SOURCE } from '../platform/database/database.tokens.js';
import { createLocalAdmin, generatePassword, verifyLocalPassword } from './local-accounts.js';

/**
 * Embedded-mode login without an IdP (trials, air-gapped demos). On the first start with no
 * local account, an `admin` password is generated and printed once to standard output.
 */
@Injectable()
export class LocalLoginService implements OnApplicationBootstrap {
  private readonly logger = new Logger('local-login');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  get enabled(): boolean {
    return this.config.identity.localLogin.enabled;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled || !this.config.identity.localLogin.generateAtStart) return;
    const password = generatePassword();
    try {
      const result = await createLocalAdmin(this.dataSource, { username: 'admin', password, onlyIfNone: true, actorId: 'first-start' });
      if (!result.created) return;
      // Deliberately not through the logger: the password must not land in log storage.
      process.stdout.write(
        `\n  Switchboard created a local admin login (shown once):\n    username: admin\n    password: ${password}\n  Set your own with \`switchboard admin create\`; disable with LOCAL_LOGIN_ENABLED=false.\n\n`,
      );
      this.logger.log('generated the first local admin login (password printed once to stdout)');
    } catch (error) {
      // Another instance created it at the same moment.
      this.logger.warn({ reason: (error as Error).message }, 'could not create the first local admin');
    }
  }

  /** The user id for correct credentials, else null. */
  verify(username: string, password: string): Promise<string | null> {
    return verifyLocalPassword(this.dataSource, username, password);
  }
}
