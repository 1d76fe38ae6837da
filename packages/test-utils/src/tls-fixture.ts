/**
 * Throwaway TLS material for tests: a CA, a server certificate for localhost
 * and 127.0.0.1, and a client certificate, made with the `openssl` CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Paths and contents of generated TLS files. */
export interface TlsFixture {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(
      `openssl ${args[0]} failed; TLS test servers need the openssl CLI on PATH (apt-get install openssl): ${(error as Error).message}`,
    );
  }
}

/** Generates a CA, a server certificate (CN localhost, SAN localhost + 127.0.0.1) and a client certificate. */
export function createTlsFixture(dir = mkdtempSync(join(tmpdir(), 'strata-tls-'))): TlsFixture {
  const days = '2';
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      days,
      '-subj',
      '/CN=stratacache-test-ca',
    ],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'stratacache-test-client'],
  ] as const) {
    openssl(
      ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        days,
        '-extfile',
        'san.ext',
      ],
      dir,
    );
  }
  const path = (file: string): string => join(dir, file);
  return {
    dir,
    caFile: path('ca.crt'),
    certFile: path('server.crt'),
    keyFile: path('server.key'),
    clientCertFile: path('client.crt'),
    clientKeyFile: path('client.key'),
    ca: readFileSync(path('ca.crt')),
    clientCert: readFileSync(path('client.crt')),
    clientKey: readFileSync(path('client.key')),
  };
}
