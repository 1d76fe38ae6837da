import { describe, expect, it } from 'vitest';
import { client, server } from './helpers.js';

describe('health()', () => {
  it('reports latency, role, version, memory, clients and hit rate', async () => {
    const redis = client();
    await redis.client.get('health:miss');
    const report = await redis.health();
    expect(report.ok).toBe(true);
    expect(report.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.mode).toBe('standalone');
    const node = report.nodes[0];
    expect(node?.role).toBe('master');
    expect(node?.version).toMatch(/^\d+\.\d+/);
    expect(node?.usedMemory).toBeGreaterThan(0);
    expect(node?.connectedClients).toBeGreaterThan(0);
    expect(node?.keyspaceMisses).toBeGreaterThan(0);
    expect(node?.hitRate).not.toBeNull();
  });

  it('warns when the eviction policy can drop lock and session keys', async () => {
    const s = await server({ maxmemory: '50mb', maxmemoryPolicy: 'volatile-lru' });
    const report = await client({ url: s.url }).health();
    expect(report.nodes[0]?.maxMemoryPolicy).toBe('volatile-lru');
    expect(report.nodes[0]?.memoryRatio).toBeGreaterThan(0);
    expect(report.warnings.join('\n')).toMatch(/volatile-lru can evict lock, claim and session keys/);
    const safe = await server({ maxmemory: '50mb', maxmemoryPolicy: 'noeviction' });
    expect((await client({ url: safe.url }).health()).warnings).toEqual([]);
  });

  it('answers ok: false within the timeout when Redis is down, never throws', async () => {
    const s = await server();
    const redis = client({ url: s.url, commandTimeout: 300, breaker: false });
    await redis.client.ping();
    await s.stop();
    const report = await redis.health();
    expect(report.ok).toBe(false);
    expect(report.error).toBeTruthy();
  });

  it('degrades to PING and latency for an ACL user without INFO, and says what it could not read', async () => {
    const s = await server({
      users: [
        { name: 'noinfo', password: 'pw-noinfo', rules: ['~*', '&*', '+@all', '-info'] },
        { name: 'nodangerous', password: 'pw-nodangerous', rules: ['~*', '&*', '+@all', '-@dangerous'] },
      ],
    });
    for (const user of ['noinfo', 'nodangerous']) {
      const redis = client({ url: `redis://127.0.0.1:${s.port}`, username: user, password: `pw-${user}` });
      const report = await redis.health();
      expect(report.ok, user).toBe(true);
      expect(report.error).toBeUndefined();
      expect(report.latencyMs).toBeGreaterThanOrEqual(0);
      expect(report.nodes).toEqual([]);
      expect(report.unreadable).toEqual([
        {
          node: `127.0.0.1:${s.port}`,
          command: 'INFO',
          missing: expect.arrayContaining(['role', 'version', 'maxMemoryPolicy', 'hitRate']),
          reason: expect.stringMatching(/NOPERM/),
        },
      ]);
      expect(report.warnings.join('\n')).toMatch(/INFO could not be read .*eviction policy .* unknown/);
      expect(JSON.stringify(report)).not.toContain(`pw-${user}`);
    }
  });

  it('says where and what when PING fails, never throws', async () => {
    const s = await server();
    const port = s.port;
    await s.stop();
    const report = await client({ url: `redis://127.0.0.1:${port}`, commandTimeout: 500, breaker: false }).health();
    expect(report).toMatchObject({ ok: false, latencyMs: null, nodes: [], unreadable: [] });
    expect(report.error).toContain(`Redis at 127.0.0.1:${port} refused the connection`);
  });
});
