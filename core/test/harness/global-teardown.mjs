export default async function globalTeardown() {
  await Promise.allSettled([globalThis.__SB_MARIADB__?.stop(), globalThis.__SB_NATS__?.stop()]);
}
