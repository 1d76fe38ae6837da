#!/usr/bin/env node
/*
 * The demo's reaper: a tiny detached process that kills whatever the launcher
 * started if the launcher itself dies without cleaning up (a crash, or SIGKILL,
 * which no handler can catch).
 *
 * The launcher writes "+<pid>" / "-<pid>" lines to our stdin as it starts and
 * stops children. When stdin closes (the launcher is gone, however it ended)
 * every pid still listed gets SIGCONT (a paused Redis cannot act on a signal)
 * and SIGKILL.
 *
 * Plain CommonJS on purpose: spawned with `node` directly, no TypeScript
 * loader, so it starts in milliseconds.
 */
'use strict';

const pids = new Set();
let buffered = '';

function reap() {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  pids.clear();
  process.exit(0);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline !== -1) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    const pid = Number(line.slice(1));
    if (Number.isInteger(pid) && pid > 0) {
      if (line[0] === '+') pids.add(pid);
      else if (line[0] === '-') pids.delete(pid);
    }
    newline = buffered.indexOf('\n');
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
// Detached, so a Ctrl-C in the terminal does not reach it; a direct signal reaps first.
process.on('SIGINT', reap);
process.on('SIGTERM', reap);
process.on('SIGHUP', reap);
