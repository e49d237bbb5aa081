#!/usr/bin/env node
// Entry point of the `switchboard` command. The compiled core lives in ../dist.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('switchboard: the core is not built yet; run `npm run build` first.\n');
  process.exit(1);
}
const { main } = await import(cli.href);
try {
  const code = await main(process.argv);
  if (code !== 0) process.exit(code);
} catch (error) {
  const name = error && error.name;
  if (name === 'ConfigError') {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
