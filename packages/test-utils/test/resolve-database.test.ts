import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { getFreePort, NO_MYSQL_MESSAGE, portAnswers, resolveMysql, resolvePostgres } from '../src/index.js';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/** A TCP listener on a free port, standing in for a database server that answers. */
async function listening(): Promise<number> {
  const port = await getFreePort();
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

describe('resolvePostgres', () => {
  it('uses DATABASE_URL when it is set', async () => {
    const url = 'postgres://someone@db.example:5432/app';
    expect(await resolvePostgres({ env: { DATABASE_URL: url } })).toEqual({ source: 'env', url });
  });

  it('uses the local server when its port answers', async () => {
    const port = await listening();
    expect(await resolvePostgres({ env: {}, port })).toEqual({
      source: 'local',
      url: `postgres://postgres@127.0.0.1:${port}/test`,
    });
  });

  it('falls back to PGlite when nothing answers', async () => {
    const port = await getFreePort();
    expect(await resolvePostgres({ env: {}, port })).toEqual({ source: 'pglite' });
  });
});

describe('resolveMysql', () => {
  it('uses MYSQL_URL when it is set', async () => {
    expect(await resolveMysql({ env: { MYSQL_URL: 'mysql://u@h:3306/d' } })).toEqual({
      source: 'env',
      url: 'mysql://u@h:3306/d',
    });
  });

  it('uses the local server when its port answers', async () => {
    const port = await listening();
    expect(await resolveMysql({ env: {}, port })).toEqual({
      source: 'local',
      url: `mysql://root@127.0.0.1:${port}/test`,
    });
  });

  it('fails with a message saying how to get a server when none answers', async () => {
    const port = await getFreePort();
    await expect(resolveMysql({ env: {}, port })).rejects.toThrow(NO_MYSQL_MESSAGE);
  });
});

describe('portAnswers', () => {
  it('tells an open port from a closed one', async () => {
    expect(await portAnswers('127.0.0.1', await listening())).toBe(true);
    expect(await portAnswers('127.0.0.1', await getFreePort())).toBe(false);
  });
});
