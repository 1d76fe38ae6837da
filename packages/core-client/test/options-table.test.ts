/**
 * Every option of createRedis fed a wrong type, a negative, zero, NaN, an
 * unknown value and an out-of-range value: each is refused at construction
 * with a ConfigError (E_CONFIG) naming the option and the value received.
 */
import { BAD_OPTION_VALUES as BAD, expectConfigError, shown } from '@stratacache/test-utils';
import { describe, it } from 'vitest';
import type { RedisClientOptions } from '../src/index.js';
import { resolveOptions } from '../src/resolve-options.js';

interface Row {
  option: string;
  values: readonly unknown[];
  make: (value: unknown) => RedisClientOptions;
  hideValue?: boolean;
}

const set =
  (name: keyof RedisClientOptions) =>
  (value: unknown): RedisClientOptions => ({ [name]: value });

const rows: Row[] = [
  { option: 'url', values: [5, '', 'http://h/', 'not a url'], make: set('url') },
  { option: 'host', values: BAD.name, make: set('host') },
  { option: 'port', values: [true, -1, 0, Number.NaN, 65536, 1.5, 'abc'], make: set('port') },
  { option: 'socketPath', values: BAD.name, make: set('socketPath') },
  { option: 'username', values: [5, true, ''], make: set('username') },
  { option: 'password', values: [5, true, {}], make: set('password'), hideValue: true },
  { option: 'db', values: [true, -1, Number.NaN, 1.5, 'one'], make: set('db') },
  { option: 'tls', values: ['yes', 5, Number.NaN], make: set('tls') },
  { option: 'tls.servername', values: [5, ''], make: (v) => ({ tls: { servername: v as string } }) },
  {
    option: 'tls.rejectUnauthorized',
    values: BAD.boolean,
    make: (v) => ({ tls: { rejectUnauthorized: v as boolean } }),
  },
  { option: 'sentinels', values: ['h:1', 5], make: set('sentinels') },
  {
    option: 'sentinels[0].port',
    values: [0, 70000, 'x'],
    make: (v) => ({ sentinels: [{ host: 'h', port: v as number }], sentinelName: 'm' }),
  },
  { option: 'sentinelName', values: [5, ''], make: set('sentinelName') },
  { option: 'clusterNodes', values: ['h:1', 5], make: set('clusterNodes') },
  {
    option: 'clusterNodes[0].host',
    values: BAD.name,
    make: (v) => ({ clusterNodes: [{ host: v as string, port: 7000 }] }),
  },
  { option: 'prefix', values: [5, '', 'a:b', 'a*', '{x}', 'x'.repeat(65)], make: set('prefix') },
  { option: 'maxKeyLength', values: ['100', true, -1, 0, 15, Number.NaN, 1.5], make: set('maxKeyLength') },
  { option: 'connectTimeout', values: BAD.positiveDuration, make: set('connectTimeout') },
  { option: 'commandTimeout', values: BAD.positiveDuration, make: set('commandTimeout') },
  { option: 'maxOfflineQueue', values: BAD.nonNegativeInt, make: set('maxOfflineQueue') },
  { option: 'maxRetriesPerRequest', values: BAD.nonNegativeInt, make: set('maxRetriesPerRequest') },
  { option: 'reconnectBaseDelay', values: BAD.positiveDuration, make: set('reconnectBaseDelay') },
  { option: 'reconnectMaxDelay', values: BAD.positiveDuration, make: set('reconnectMaxDelay') },
  // Out of range against another option: the cap below the base delay.
  {
    option: 'reconnectMaxDelay',
    values: ['10ms'],
    make: (v) => ({ reconnectBaseDelay: '1s', reconnectMaxDelay: v as string }),
  },
  { option: 'breaker', values: ['yes', 5, true, Number.NaN], make: set('breaker') },
  {
    option: 'breaker.failureThreshold',
    values: BAD.positiveInt,
    make: (v) => ({ breaker: { failureThreshold: v as number } }),
  },
  { option: 'breaker.window', values: BAD.positiveDuration, make: (v) => ({ breaker: { window: v as string } }) },
  {
    option: 'breaker.openDuration',
    values: BAD.positiveDuration,
    make: (v) => ({ breaker: { openDuration: v as string } }),
  },
  { option: 'connectionName', values: [5, '', 'has space', 'new\nline', 'x'.repeat(129)], make: set('connectionName') },
  { option: 'env', values: ['x', 5, Number.NaN], make: set('env') },
  { option: 'options', values: ['x', 5, Number.NaN], make: (v) => v as RedisClientOptions },
];

describe('createRedis options', () => {
  for (const row of rows) {
    for (const value of row.values) {
      it(`refuses ${row.option} = ${shown(value)}`, () =>
        expectConfigError(
          () => {
            const options = row.make(value);
            // No environment: only the option under test can be wrong.
            resolveOptions(typeof options === 'object' && options !== null ? { env: {}, ...options } : options);
          },
          row.option,
          value,
          { hideValue: row.hideValue },
        ));
    }
  }
});
