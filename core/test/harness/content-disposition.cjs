// Jest (CommonJS side) cannot require content-disposition 3, which is ESM-only, from
// @fastify/static. Route both API shapes (v1 default function, v3 `create`) to the v1
// package, which is CommonJS and has the same behaviour. Production code is unaffected.
const path = require('node:path');
const v1 = require(path.join(__dirname, '../../../node_modules/content-disposition/index.js'));
module.exports = Object.assign((...args) => v1(...args), { create: v1, parse: v1.parse });
