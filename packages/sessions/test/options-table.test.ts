/**
 * Every option of the session manager (and of its calls and the store
 * adapters) fed a wrong type, a negative, zero, NaN, an unknown value and an
 * out-of-range value: each is refused with a ConfigError (E_CONFIG) naming the
 * option and the value received (secrets: only their length).
 */
import { BAD_OPTION_VALUES as BAD, badEnumValues, expectConfigError, shown } from '@stratacache/test-utils';
import session from 'express-session';
import { describe, it } from 'vitest';
import { createExpressStore } from '../src/express.js';
import { createSessionManager, type SessionManagerOptions } from '../src/index.js';
import { client, SECRET } from './helpers.js';

const redis = client();
const never = (v: unknown) => v as never;
const make = (options: Partial<SessionManagerOptions>) =>
  createSessionManager<Record<string, unknown>>({ redis, secret: SECRET, ...options });
const ID = 'A'.repeat(43); // a well-formed id that was never issued

interface Row {
  option: string;
  values: readonly unknown[];
  run: (value: unknown) => unknown;
  hideValue?: boolean;
}

const rows: Record<string, Row[]> = {
  manager: [
    { option: 'options', values: ['x', 5, Number.NaN], run: (v) => createSessionManager(never(v)), hideValue: true },
    { option: 'redis', values: [undefined, 'x', 5, {}], run: (v) => make({ redis: never(v) }) },
    {
      option: 'secret',
      values: [5, true, 'short', Buffer.alloc(31)],
      run: (v) => make({ secret: never(v) }),
      hideValue: true,
    },
    { option: 'secret[1]', values: ['short'], run: (v) => make({ secret: [SECRET, never(v)] }), hideValue: true },
    { option: 'namespace', values: BAD.namespace, run: (v) => make({ namespace: never(v) }) },
    { option: 'idleTimeout', values: BAD.positiveDuration, run: (v) => make({ idleTimeout: never(v) }) },
    { option: 'absoluteTimeout', values: BAD.positiveDuration, run: (v) => make({ absoluteTimeout: never(v) }) },
    // Out of range against another option: idle longer than absolute.
    { option: 'idleTimeout', values: ['2h'], run: (v) => make({ idleTimeout: never(v), absoluteTimeout: '1h' }) },
    {
      option: 'maxSessionsPerUser',
      values: BAD.positiveIntOrInfinity,
      run: (v) => make({ maxSessionsPerUser: never(v) }),
    },
    { option: 'onLimit', values: badEnumValues(), run: (v) => make({ onLimit: never(v) }) },
    { option: 'bindIp', values: [5, 'nearby', { mode: 'nope' }, Number.NaN], run: (v) => make({ bindIp: never(v) }) },
    {
      option: 'bindIp.ipv4Prefix',
      values: ['24', true, -1, 33, Number.NaN, 1.5],
      run: (v) => make({ bindIp: { mode: 'subnet', ipv4Prefix: never(v) } }),
    },
    {
      option: 'bindIp.ipv6Prefix',
      values: ['64', true, -1, 129, Number.NaN, 1.5],
      run: (v) => make({ bindIp: { mode: 'subnet', ipv6Prefix: never(v) } }),
    },
    {
      option: 'bindUserAgent',
      values: [5, Number.NaN, 'nope', '', 'enforce'],
      run: (v) => make({ bindUserAgent: never(v) }),
    },
    {
      option: 'serializer',
      values: ['json', 5, {}, { encode: () => Buffer.alloc(0) }],
      run: (v) => make({ serializer: never(v) }),
    },
    { option: 'encryption', values: ['x', 5, Number.NaN], run: (v) => make({ encryption: never(v) }) },
  ],
  calls: [
    {
      option: 'touch: idleTimeout',
      values: BAD.positiveDuration,
      run: (v) => make({}).touch(ID, { idleTimeout: never(v) }),
    },
    {
      option: 'put: idleTimeout',
      values: BAD.positiveDuration,
      run: (v) => make({}).put(ID, null, {}, { idleTimeout: never(v) }),
    },
    { option: 'activeWithin', values: BAD.nonNegativeDuration, run: (v) => make({}).stats({ activeWithin: never(v) }) },
  ],
  stores: [
    { option: 'options', values: ['x', 5], run: (v) => createExpressStore(session, make({}), never(v)) },
    { option: 'userId', values: BAD.function, run: (v) => createExpressStore(session, make({}), { userId: never(v) }) },
  ],
};

for (const [feature, featureRows] of Object.entries(rows)) {
  describe(`${feature} options`, () => {
    for (const row of featureRows) {
      for (const value of row.values) {
        it(`refuses ${row.option} = ${shown(value)}`, () =>
          expectConfigError(() => row.run(value), row.option, value, { hideValue: row.hideValue }));
      }
    }
  });
}
