#!/usr/bin/env node
// TLS front for a single appliance: terminates HTTPS (and WSS) on SB_PROXY_LISTEN and forwards to
// the core on 127.0.0.1. Runs on the bundled Node runtime; no dependencies. Scale-out sites put
// nginx/HAProxy in front instead (see docker/nginx.conf and docs/operations.md).
//
// Environment: SB_PROXY_LISTEN (host:port), SB_PROXY_TARGET (host:port), SB_TLS_CERT, SB_TLS_KEY.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const [listenHost, listenPort] = splitHostPort(process.env.SB_PROXY_LISTEN ?? '0.0.0.0:443');
const [targetHost, targetPort] = splitHostPort(process.env.SB_PROXY_TARGET ?? '127.0.0.1:3000');

function splitHostPort(value) {
  const index = value.lastIndexOf(':');
  return [value.slice(0, index).replace(/^\[|\]$/g, ''), Number(value.slice(index + 1))];
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

function forwardedHeaders(req) {
  const headers = { ...req.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  const client = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  headers['x-forwarded-proto'] = 'https';
  headers['x-forwarded-host'] = req.headers.host ?? '';
  return headers;
}

const server = https.createServer({ cert: readFileSync(process.env.SB_TLS_CERT), key: readFileSync(process.env.SB_TLS_KEY), minVersion: 'TLSv1.2' });

server.on('request', (req, res) => {
  const upstream = http.request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers: forwardedHeaders(req) }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"bad_gateway","message":"The Switchboard core is not answering."}}');
  });
  req.pipe(upstream);
});

// WebSocket (and any other) upgrades: replay the request line and headers, then splice sockets.
server.on('upgrade', (req, socket, head) => {
  const upstream = net.connect(targetPort, targetHost, () => {
    const headers = forwardedHeaders(req);
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    const lines = [
      `${req.method} ${req.url} HTTP/1.1`,
      ...Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`])),
    ];
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', close);
  socket.on('error', close);
});

server.listen(listenPort, listenHost, () => process.stdout.write(`tls-proxy listening on ${listenHost}:${listenPort} -> ${targetHost}:${targetPort}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close(() => process.exit(0)).closeAllConnections?.());
