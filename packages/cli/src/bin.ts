#!/usr/bin/env node
/** The `stratacache` executable: runs one command with this process's arguments and environment. */
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
});
