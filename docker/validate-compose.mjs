#!/usr/bin/env node
// Structural check of docker/compose.yaml that needs no Docker engine or compose CLI: every service
// the scale-out recipe relies on exists, has a healthcheck, depends only on defined services, mounts
// files that exist and declares its named volumes; core containers are read-only and non-root.
// `docker/validate.sh` runs this and, when a compose CLI is available, `compose config` too.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

const file = resolve(process.argv[2] ?? new URL('./compose.yaml', import.meta.url).pathname);
const base = dirname(file);
const doc = parse(readFileSync(file, 'utf8'), { merge: true });
const problems = [];
const services = doc.services ?? {};
const volumes = Object.keys(doc.volumes ?? {});

for (const name of ['mariadb', 'mysql', 'nats-1', 'nats-2', 'nats-3', 'keycloak', 'migrate', 'core-1', 'core-2', 'proxy']) {
  if (!services[name]) problems.push(`service ${name} is missing`);
}
for (const [name, service] of Object.entries(services)) {
  if (!service.image && !service.build) problems.push(`${name}: neither image nor build`);
  if (name !== 'migrate' && !service.healthcheck && !(service.build && name.startsWith('core-'))) problems.push(`${name}: no healthcheck`);
  const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
  for (const dep of deps) if (!services[dep]) problems.push(`${name}: depends on unknown service ${dep}`);
  for (const volume of service.volumes ?? []) {
    const source = String(typeof volume === 'string' ? volume.split(':')[0] : volume.source);
    if (source.startsWith('.') || source.startsWith('/')) {
      if (!existsSync(resolve(base, source))) problems.push(`${name}: mounts ${source}, which does not exist`);
    } else if (!volumes.includes(source)) problems.push(`${name}: volume ${source} is not declared`);
  }
  if (name.startsWith('core-')) {
    if (service.read_only !== true) problems.push(`${name}: not read_only`);
    if (!String(service.environment?.NATS_URL ?? '').includes('nats-3')) problems.push(`${name}: NATS_URL does not list the cluster`);
  }
}
const dockerfile = readFileSync(resolve(base, 'Dockerfile'), 'utf8');
if (!/^USER (?!root|0\b)/m.test(dockerfile)) problems.push('Dockerfile: the runtime stage must switch to a non-root USER');
if ((dockerfile.match(/^FROM /gm) ?? []).length < 2) problems.push('Dockerfile: not multi-stage');
if (!/proxy_set_header Upgrade/.test(readFileSync(resolve(base, 'nginx', 'nginx.conf'), 'utf8'))) problems.push('nginx.conf: no WebSocket upgrade');

if (problems.length) {
  console.error(`${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`${file}: ${Object.keys(services).length} services, structure ok`);
