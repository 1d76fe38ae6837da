/**
 * `pnpm --filter @stratacache/admin hash-password`: reads a password from
 * standard input (not from the command line, where `ps` and the shell history
 * would keep it) and prints its scrypt hash for ADMIN_PASSWORD_HASH.
 */
import { StratacacheError } from '@stratacache/core-client';
import { hashPassword } from './password.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (at least 12 characters), then Enter and Ctrl-D: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

readStdin()
  .then((password) => hashPassword(password))
  .then((hash) => console.log(hash))
  .catch((error: unknown) => {
    console.error(StratacacheError.isInstance(error) ? error.message : String(error));
    process.exit(1);
  });
