import { describe, expect, it } from 'vitest';
import { value } from './exposition.js';
import { client, eventually, metrics, scrape, server, unique } from './helpers.js';

describe('core-client metrics', () => {
  it('times redis.run() verbs per connection and verb, and counts errors by code', async () => {
    const m = metrics();
    const connection = unique('conn');
    const redis = client({ connectionName: connection });
    const before = await scrape(m);
    expect(value(before, 'stratacache_redis_command_duration_seconds_count', { connection })).toBe(0);
    for (let i = 0; i < 5; i++) await redis.run('get', (c) => c.get(`${redis.options.prefix}:x`));
    await redis.run('set', (c) => c.set(`${redis.options.prefix}:x`, 'v'));
    await expect(redis.run('lpush', (c) => c.lpush(`${redis.options.prefix}:x`, 'y'))).rejects.toThrow();
    const after = await scrape(m);
    const count = (command: string, result: string) =>
      value(after, 'stratacache_redis_command_duration_seconds_count', { connection, command, result });
    expect(count('get', 'ok')).toBe(5);
    expect(count('set', 'ok')).toBe(1);
    expect(count('lpush', 'error')).toBe(1);
    // Every observation falls in some bucket up to +Inf, and the fastest bucket starts at 100 µs.
    expect(
      value(after, 'stratacache_redis_command_duration_seconds_bucket', { connection, command: 'get', le: '+Inf' }),
    ).toBe(5);
    expect(after.samples.some((s) => s.labels.le === '0.0001')).toBe(true);
    expect(
      value(after, 'stratacache_redis_command_errors_total', { connection, command: 'lpush', code: 'E_WRITE' }),
    ).toBe(1);
    expect(value(after, 'stratacache_redis_connection_up', { connection })).toBe(1);
  });

  it('shows the breaker opening (state 2), transitions and reconnects when Redis is killed, and closing after', async () => {
    const s = await server();
    const m = metrics();
    const connection = unique('brk');
    const redis = client({
      url: s.url,
      connectionName: connection,
      commandTimeout: 200,
      reconnectMaxDelay: 100,
      breaker: { failureThreshold: 2, window: '10s', openDuration: 300 },
    });
    await redis.run('ping', (c) => c.ping());
    await s.kill();
    for (let i = 0; i < 3; i++) await redis.run('ping', (c) => c.ping()).catch(() => {});
    await eventually(async () => value(await scrape(m), 'stratacache_redis_breaker_state', { connection }) === 2);
    const down = await scrape(m);
    expect(value(down, 'stratacache_redis_breaker_transitions_total', { connection, to: 'open' })).toBe(1);
    await eventually(async () => value(await scrape(m), 'stratacache_redis_reconnects_total', { connection }) > 0);
    expect(value(await scrape(m), 'stratacache_redis_connection_up', { connection })).toBe(0);
    await s.restart();
    await eventually(async () => {
      await redis.run('ping', (c) => c.ping()).catch(() => {});
      return value(await scrape(m), 'stratacache_redis_breaker_state', { connection }) === 0;
    }, 15_000);
    const up = await scrape(m);
    expect(
      value(up, 'stratacache_redis_breaker_transitions_total', { connection, to: 'closed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(up, 'stratacache_redis_connection_up', { connection })).toBe(1);
  });
});
