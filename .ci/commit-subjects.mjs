#!/usr/bin/env node
// Fails when a commit after BASE has a subject longer than MAX characters (CONTRIBUTING.md).
// Run by `npm run lint`. Works on a full or a shallow clone: a shallow clone that does not reach
// BASE holds only newer commits, so all of them are checked; a history without BASE that is not
// shallow (another project's, a rewritten one) is skipped with a warning, as is a tree that is
// not a git checkout (a source tarball).
import { execFileSync } from 'node:child_process';

/** main when the rule began (issue 22): older subjects are left as they were written. */
const BASE = 'cff21eda058ee69740f687356300b234442dfcc9';
const MAX = 72;

const root = new URL('..', import.meta.url);

function git(...args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function ok(command) {
  try {
    command();
    return true;
  } catch {
    return false;
  }
}

if (!ok(() => git('rev-parse', '--verify', 'HEAD'))) {
  console.warn('commit-subjects: not a git checkout with commits; skipped');
  process.exit(0);
}
let range;
if (ok(() => git('cat-file', '-e', `${BASE}^{commit}`))) {
  range = `${BASE}..HEAD`;
} else if (git('rev-parse', '--is-shallow-repository').trim() === 'true') {
  range = 'HEAD';
} else {
  console.warn(`commit-subjects: base ${BASE.slice(0, 7)} is not in this history; skipped`);
  process.exit(0);
}
// NUL-separated records: a subject cannot hold a NUL, and %s is the subject line only.
const records = git('log', '-z', '--format=%h %s', range)
  .split('\0')
  .filter((r) => r !== '');
const long = [];
for (const r of records) {
  const subject = r.slice(r.indexOf(' ') + 1);
  const length = [...subject].length;
  if (length > MAX) long.push(`  ${r.slice(0, r.indexOf(' '))} (${length}): ${subject}`);
}
if (long.length > 0) {
  console.error(`commit-subjects: ${long.length} commit subject(s) over ${MAX} characters since ${BASE.slice(0, 7)}:`);
  console.error(long.join('\n'));
  console.error('Shorten the subject (git commit --amend, or git rebase -i); the why goes in the body.');
  process.exit(1);
}
