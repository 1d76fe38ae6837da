#!/usr/bin/env node
/*
 * The reaper: a tiny process that outlives its owner just long enough to kill
 * the redis-server processes the owner started.
 *
 * The owner writes "+<pid>" and "-<pid>" lines to our stdin as it starts and
 * stops servers. When stdin closes (the owner exited, crashed, or was killed
 * with SIGKILL, which no in-process handler can catch) every pid still listed
 * gets SIGCONT (a paused server cannot act on SIGTERM) and SIGKILL.
 *
 * Plain CommonJS on purpose: it is spawned with `node` directly, without any
 * TypeScript loader, and must start in milliseconds.
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
      // Already gone: nothing to do.
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
// detached: true gives the reaper its own session, so a Ctrl-C of the owner does not reach it;
// if someone signals it directly, it reaps before it goes.
process.on('SIGINT', reap);
process.on('SIGTERM', reap);
process.on('SIGHUP', reap);
