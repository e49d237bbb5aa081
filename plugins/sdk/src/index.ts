/**
 * @switchboard/plugin-sdk: everything a Switchboard plugin imports.
 *
 * ```ts
 * import { definePlugin } from '@switchboard/plugin-sdk';
 * export default definePlugin({ init(ctx) { ... }, channel: { async send(message, ctx) { ... } } });
 * ```
 * The test kit lives in `@switchboard/plugin-sdk/testing`.
 */
export * from './manifest.js';
export * from './plugin.js';
export * from './safe-fetch.js';
export * from './hmac.js';
