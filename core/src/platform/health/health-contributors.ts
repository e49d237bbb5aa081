import { Injectable } from '@nestjs/common';

export type ComponentHealth = { status: 'up' | 'down' | 'degraded'; detail?: string };

/** Other modules (plugins, models) report their health here; it shows in /health/ready. */
@Injectable()
export class HealthContributors {
  private readonly contributors = new Map<string, () => Promise<ComponentHealth> | ComponentHealth>();

  register(name: string, check: () => Promise<ComponentHealth> | ComponentHealth): void {
    this.contributors.set(name, check);
  }

  async collect(): Promise<Record<string, ComponentHealth>> {
    const result: Record<string, ComponentHealth> = {};
    for (const [name, check] of this.contributors) {
      try {
        result[name] = await check();
      } catch (error) {
        result[name] = { status: 'down', detail: (error as Error).message };
      }
    }
    return result;
  }
}
