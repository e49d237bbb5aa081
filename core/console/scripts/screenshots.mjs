#!/usr/bin/env node
// Regenerates docs/screenshots/*.png: a fresh embedded core with `switchboard demo seed`, then
// Chromium (playwright-core, /usr/bin/chromium) signs in as the local admin and captures the main
// screens in English and Chinese. Run from the repository root after a build: `npm run screenshots`.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'core', 'bin', 'switchboard.js');
const out = join(root, 'docs', 'screenshots');
const dataDir = mkdtempSync(join(tmpdir(), 'sb-screens-'));
const port = await new Promise((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    server.close(() => done(port));
  });
});
const env = {
  ...process.env,
  SWITCHBOARD_DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: String(port),
  LOG_LEVEL: 'warn',
  SESSION_COOKIE_SECURE: 'false',
  LOCAL_ADMIN_GENERATE_AT_START: 'false',
};
const url = `http://127.0.0.1:${port}`;
let core;
let browser;

const cleanup = async () => {
  await browser?.close().catch(() => undefined);
  if (core && core.exitCode === null) {
    core.kill('SIGTERM');
    await new Promise((done) => {
      const timer = setTimeout(() => (core.kill('SIGKILL'), done()), 10_000);
      core.once('exit', () => (clearTimeout(timer), done()));
    });
  }
  rmSync(dataDir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  console.log('seeding demo data…');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'demo', 'seed', '--admin', 'admin'], { env, timeout: 180_000 });
  const password = /password: (\S+)/.exec(stdout)?.[1];
  if (!password) throw new Error(`demo seed printed no admin password:\n${stdout}`);

  console.log('starting the core…');
  core = spawn(process.execPath, [cli, 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (
      await fetch(`${url}/health/ready`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      break;
    await new Promise((done) => setTimeout(done, 300));
  }

  browser = await chromium.launch({
    executablePath: process.env.SB_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(out, { recursive: true });
  for (const locale of ['en-US', 'zh-CN']) {
    const context = await browser.newContext({ locale, viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const suffix = locale === 'zh-CN' ? '-zh' : '';
    const shot = async (name) => {
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.waitForTimeout(700); // charts finish drawing, toasts fade
      await page.screenshot({ path: join(out, `${name}${suffix}.png`) });
      console.log(`  ${name}${suffix}.png`);
    };
    await page.goto(url);
    await page.getByTestId('username').waitFor();
    await shot('login');
    await page.getByTestId('username').fill('admin');
    await page.getByTestId('password').fill(password);
    await page.getByTestId('local-login').click();
    await page.getByTestId('user-menu').waitFor();

    await page.goto(`${url}/inbox`);
    await page.getByRole('tab').nth(3).click(); // All
    await page.getByTestId('conversation-item').first().click();
    await page.getByTestId('timeline').waitFor();
    await page.getByTestId('customer-360').waitFor();
    await shot('inbox');
    await page.getByTestId('composer').fill('/');
    await page.getByTestId('slash-menu').waitFor();
    await shot('composer-slash');
    await page.getByTestId('composer').fill('');

    await page.goto(`${url}/tickets`);
    await page.getByTestId('sla').first().waitFor();
    await shot('tickets');
    await page.locator('[data-testid="tickets-table"] tbody tr').first().click();
    await page
      .getByTestId('transitions')
      .waitFor()
      .catch(() => undefined);
    await shot('ticket-detail');

    await page.goto(`${url}/devices`);
    await page.getByTestId('devices-table').waitFor();
    await shot('devices');
    await page.goto(`${url}/devices/CR-SH-02`);
    await page.getByTestId('metric-chart').first().waitFor();
    await shot('device-detail');

    await page.goto(`${url}/analytics`);
    await page.getByTestId('analytics-chart').first().waitFor();
    await shot('analytics');

    await page.goto(`${url}/nlp`);
    await shot('nlp');
    await page.goto(`${url}/knowledge`);
    await page.getByTestId('kb-table').waitFor();
    await page.getByTestId('kb-entry-title').first().waitFor();
    await shot('knowledge');
    // The editor on a published entry (variants, rich-text answer with its preview), then its history.
    await page
      .getByTestId('kb-entry-title')
      .filter({ hasText: locale === 'zh-CN' ? '退款多久到账？' : 'How long does a refund take?' })
      .click();
    await page.getByTestId('kb-form').waitFor();
    await page.getByTestId('kb-live-preview').waitFor();
    await shot('knowledge-editor');
    await page
      .getByRole('tab')
      .filter({ hasText: locale === 'zh-CN' ? '版本历史' : 'Version history' })
      .click();
    await page.getByTestId('kb-history').waitFor();
    await shot('knowledge-history');
    await page.keyboard.press('Escape');
    await page
      .getByRole('tab')
      .filter({ hasText: locale === 'zh-CN' ? '待审核' : 'Review queue' })
      .click();
    await page.getByTestId('kb-proposals').locator('tbody tr').first().waitFor();
    await shot('knowledge-review');

    await page.goto(`${url}/bot`);
    await page.getByTestId('bot-settings').waitFor();
    await shot('bot-settings');
    await page
      .getByRole('tab')
      .filter({ hasText: locale === 'zh-CN' ? '流程' : 'Flows' })
      .click();
    await page.getByTestId('flow-edit-order_status').click();
    await page.getByTestId('flow-preview').waitFor();
    await page.getByTestId('flow-editor').evaluate((element) => element.scrollIntoView());
    await shot('bot-flow-editor');
    // An invalid edit: the server's problems are marked on their lines.
    const source = await page.getByTestId('flow-source').inputValue();
    await page.getByTestId('flow-source').fill(source.replace('type: call', 'type: fetch'));
    await page.getByTestId('flow-problems').waitFor();
    await page.getByTestId('flow-problem').first().locator('a').click(); // jumps to the line
    await page.getByTestId('flow-editor').evaluate((element) => element.scrollIntoView());
    await shot('bot-flow-invalid');
    await page.goto(`${url}/admin/channels`);
    await page.getByTestId('plugins-table').waitFor();
    await page.locator('[data-testid^="configure-"]').first().click();
    await page.getByTestId('schema-form').waitFor();
    await shot('admin-channel-plugin');
    await page.keyboard.press('Escape');
    await page.goto(`${url}/admin/audit`);
    await shot('admin-audit');
    await context.close();
  }
  console.log(`screenshots written to ${out}`);
} finally {
  await cleanup();
}
