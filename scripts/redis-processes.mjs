#!/usr/bin/env node
/**
 * Proves that a test run left no redis-server behind.
 *
 *   node scripts/redis-processes.mjs snapshot FILE   # before the tests
 *   node scripts/redis-processes.mjs check FILE      # after: fails on any new, live redis-server
 *
 * Reads /proc (Linux); zombies (exited, waiting to be reaped) do not count.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

function liveRedisServers() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (name === 'redis-server' && state !== 'Z') {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
        found.push({ pid: Number(entry), cmdline });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

const [command, file] = process.argv.slice(2);
if (command === 'snapshot' && file) {
  writeFileSync(file, JSON.stringify(liveRedisServers().map((p) => p.pid)));
} else if (command === 'check' && file) {
  const before = new Set(JSON.parse(readFileSync(file, 'utf8')));
  // A worker killed at the very end of the run may take a moment to take its server along.
  let left = liveRedisServers().filter((p) => !before.has(p.pid));
  for (let waited = 0; left.length > 0 && waited < 3000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = liveRedisServers().filter((p) => !before.has(p.pid));
  }
  if (left.length > 0) {
    console.error(
      `redis-server processes left running by the tests:\n${left.map((p) => `  ${p.pid} ${p.cmdline}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log('no redis-server left running by the tests');
} else {
  console.error('usage: redis-processes.mjs snapshot|check FILE');
  process.exit(2);
}
