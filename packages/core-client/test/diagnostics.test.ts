import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CoreChannels, ReadError } from '../src/index.js';
import { client, eventually, server } from './helpers.js';

function record(name: string): { messages: Record<string, unknown>[]; stop(): void } {
  const messages: Record<string, unknown>[] = [];
  const listener = (m: unknown) => messages.push(m as Record<string, unknown>);
  subscribe(name, listener);
  return { messages, stop: () => unsubscribe(name, listener) };
}

describe('diagnostics channels', () => {
  it('publishes connect, command-error, close and reconnect events without secrets', async () => {
    const s = await server({ password: 'diag-secret-pw' });
    const connect = record(CoreChannels.connect);
    const commandError = record(CoreChannels.commandError);
    const reconnect = record(CoreChannels.reconnect);
    const close = record(CoreChannels.close);
    try {
      const redis = client({ url: s.url, connectionName: 'diag-test', breaker: false, commandTimeout: 500 });
      await eventually(() => connect.messages.some((m) => m.client === 'diag-test'));
      await redis.client.set('k', 'v');
      await expect(redis.run('lpush', (c) => c.lpush('k', 'x'))).rejects.toThrowError(/WRONGTYPE/);
      await expect(redis.run('hget', (c) => c.hget('k', 'f'))).rejects.toBeInstanceOf(ReadError);
      expect(commandError.messages).toContainEqual(
        expect.objectContaining({ client: 'diag-test', command: 'lpush', code: 'E_WRITE' }),
      );
      await s.kill();
      await eventually(() => close.messages.length > 0 && reconnect.messages.length > 0);
      expect(reconnect.messages[0]).toMatchObject({ client: 'diag-test', attempt: 1 });
      expect(JSON.stringify([connect, commandError, reconnect, close].map((r) => r.messages))).not.toContain(
        'diag-secret-pw',
      );
    } finally {
      for (const r of [connect, commandError, reconnect, close]) r.stop();
    }
  });
});
