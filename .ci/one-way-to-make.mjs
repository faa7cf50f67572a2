#!/usr/bin/env node
// Fails when a class that has a `create<Name>(...)` factory in its own file is built with
// `new <Name>(` anywhere else: one way to make a component (docs/ARCHITECTURE.md, Lifecycle).
// Run by `npm run lint`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const DIRS = ['internal', 'cmd', 'test', 'bench'];

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'testdata') yield* sources(path);
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) {
      yield path;
    }
  }
}

const files = DIRS.flatMap((d) => [...sources(join(root, d))]).map((path) => ({
  path,
  text: readFileSync(path, 'utf8'),
}));

const made = new Map();
for (const { path, text } of files) {
  for (const [, name] of text.matchAll(/^export class (\w+)/gm)) {
    if (new RegExp(`^export (async )?function create${name}\\(`, 'm').test(text)) made.set(name, path);
  }
}

const offences = [];
for (const { path, text } of files) {
  for (const [name, home] of made) {
    if (path === home) continue;
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.includes(`new ${name}(`))
        offences.push(`${relative(root, path)}:${i + 1}: new ${name}( — use create${name}()`);
    });
  }
}

if (offences.length > 0) {
  console.error(`one-way-to-make: ${offences.length} component(s) built with new beside their factory`);
  for (const o of offences) console.error(`  ${o}`);
  process.exit(1);
}
