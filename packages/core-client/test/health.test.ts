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
});
