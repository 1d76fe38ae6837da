/**
 * Every option of the bus, the invalidator, smart invalidation and keyspace
 * listening (and the arguments of their calls) fed a wrong type, a negative,
 * zero, NaN, an unknown value and an out-of-range value: each is refused with
 * a ConfigError (E_CONFIG) naming the option and the value received. The
 * values the issue found accepted silently come first.
 */
import { BAD_OPTION_VALUES as BAD, badEnumValues, expectConfigError, shown } from '@stratacache/test-utils';
import { describe, expect, it } from 'vitest';
import { createInvalidationBus, createInvalidator, createSmartInvalidation, listenToKeyspace } from '../src/index.js';
import { client } from './helpers.js';

const redis = client();
const bus = createInvalidationBus(redis);
const never = (v: unknown) => v as never;

describe('accepted silently before, refused now', () => {
  it("invalidator tags: 'sometimes' (behaved as lazy)", () =>
    expectConfigError(
      () => createInvalidator(redis, { namespace: 'c', tags: never('sometimes') }),
      'tags',
      'sometimes',
    ));
  it('bus maxRetryQueue: -1 (collapsed every failed publish into a clear)', () =>
    expectConfigError(() => createInvalidationBus(redis, { maxRetryQueue: -1 }), 'maxRetryQueue', -1));
  it('bus retryIntervalMs: NaN (retried every millisecond)', () =>
    expectConfigError(
      () => createInvalidationBus(redis, { retryIntervalMs: Number.NaN }),
      'retryIntervalMs',
      Number.NaN,
    ));
  it("invalidate({ strategy: 'remove' }) (shortened TTLs to 1 s)", () =>
    expectConfigError(
      () => createInvalidator(redis, { namespace: 'c' }).invalidate({ keys: ['k'], strategy: never('remove') }),
      'strategy',
      'remove',
    ));
  it('a publish receivers would drop as malformed', async () => {
    await expectConfigError(() => bus.publish(never('xx'), 'c', ['k']), 'op', 'xx');
    await expectConfigError(() => bus.publish('dk', 'c', [1, 2]), 'data', [1, 2]);
  });
  it('retryInterval is the new name; retryIntervalMs still works, not both', () => {
    expect(createInvalidationBus(redis, { retryInterval: '250ms' }).options.retryIntervalMs).toBe(250);
    expect(createInvalidationBus(redis, { retryIntervalMs: 300 }).options.retryIntervalMs).toBe(300);
    return expectConfigError(
      () => createInvalidationBus(redis, { retryInterval: '1s', retryIntervalMs: 1000 }),
      'retryIntervalMs',
      1000,
    );
  });
});

interface Row {
  option: string;
  values: readonly unknown[];
  run: (value: unknown) => unknown;
}

const rows: Record<string, Row[]> = {
  bus: [
    { option: 'redis', values: ['x', 5, {}], run: (v) => createInvalidationBus(never(v)) },
    { option: 'options', values: BAD.object, run: (v) => createInvalidationBus(redis, never(v)) },
    { option: 'channel', values: BAD.name, run: (v) => createInvalidationBus(redis, { channel: never(v) }) },
    {
      option: 'pubsubNamespace',
      values: BAD.namespace,
      run: (v) => createInvalidationBus(redis, { pubsubNamespace: never(v) }),
    },
    {
      option: 'maxRetryQueue',
      values: BAD.positiveInt,
      run: (v) => createInvalidationBus(redis, { maxRetryQueue: never(v) }),
    },
    {
      option: 'retryInterval',
      values: BAD.positiveDuration,
      run: (v) => createInvalidationBus(redis, { retryInterval: never(v) }),
    },
    {
      option: 'retryIntervalMs',
      values: [...BAD.positiveDuration, '1s'],
      run: (v) => createInvalidationBus(redis, { retryIntervalMs: never(v) }),
    },
    { option: 'instanceId', values: BAD.name, run: (v) => createInvalidationBus(redis, { instanceId: never(v) }) },
    { option: 'op', values: badEnumValues(), run: (v) => bus.publish(never(v), 'c', ['k']) },
    { option: 'namespace', values: BAD.name, run: (v) => bus.publish('dk', never(v), ['k']) },
    { option: 'target', values: BAD.object, run: (v) => bus.register(never(v)) },
    { option: 'target.clearLocal', values: BAD.function, run: (v) => bus.register({ clearLocal: never(v) }) },
    { option: 'handler', values: BAD.function, run: (v) => bus.onInvalidation(never(v)) },
  ],
  invalidator: [
    {
      option: 'namespace',
      values: [...BAD.namespace, undefined],
      run: (v) => createInvalidator(redis, { namespace: never(v) }),
    },
    {
      option: 'bus',
      values: ['x', 5, {}, { publish: () => {} }],
      run: (v) => createInvalidator(redis, { namespace: 'c', bus: never(v) }),
    },
    {
      option: 'tags',
      values: badEnumValues(),
      run: (v) => createInvalidator(redis, { namespace: 'c', tags: never(v) }),
    },
    {
      option: 'markerTtl',
      values: BAD.positiveDuration,
      run: (v) => createInvalidator(redis, { namespace: 'c', markerTtl: never(v) }),
    },
    {
      option: 'tagCacheTtl',
      values: BAD.nonNegativeDuration,
      run: (v) => createInvalidator(redis, { namespace: 'c', tagCacheTtl: never(v) }),
    },
    {
      option: 'strategy',
      values: badEnumValues(),
      run: (v) => createInvalidator(redis, { namespace: 'c' }).invalidate({ keys: ['k'], strategy: never(v) }),
    },
    {
      option: 'ttl',
      values: BAD.positiveDuration,
      run: (v) =>
        createInvalidator(redis, { namespace: 'c' }).invalidate({ keys: ['k'], strategy: 'ttl', ttl: never(v) }),
    },
    {
      option: 'ttl',
      values: BAD.positiveDuration,
      run: (v) => createInvalidator(redis, { namespace: 'c' }).shortenTtl(['k'], never(v)),
    },
  ],
  smartInvalidation: [
    {
      option: 'bus',
      values: [undefined, 'x', {}, { publish: () => {} }],
      run: (v) => createSmartInvalidation({ bus: never(v) }),
    },
    {
      option: 'sampleRate',
      values: BAD.fractionWithoutZero,
      run: (v) => createSmartInvalidation({ bus, sampleRate: never(v) }),
    },
    { option: 'groupOf', values: BAD.function, run: (v) => createSmartInvalidation({ bus, groupOf: never(v) }) },
    {
      option: 'hotThreshold',
      values: BAD.positiveInt,
      run: (v) => createSmartInvalidation({ bus, hotThreshold: never(v) }),
    },
    { option: 'window', values: BAD.positiveDuration, run: (v) => createSmartInvalidation({ bus, window: never(v) }) },
    {
      option: 'windowMs',
      values: [...BAD.positiveDuration, '1m'],
      run: (v) => createSmartInvalidation({ bus, windowMs: never(v) }),
    },
    {
      option: 'maxTrackedKeys',
      values: BAD.positiveInt,
      run: (v) => createSmartInvalidation({ bus, maxTrackedKeys: never(v) }),
    },
    { option: 'random', values: BAD.function, run: (v) => createSmartInvalidation({ bus, random: never(v) }) },
  ],
  keyspace: [
    {
      option: 'namespace',
      values: BAD.namespace,
      run: (v) => listenToKeyspace(redis, { namespace: never(v), targets: [] }),
    },
    {
      option: 'targets',
      values: ['x', 5, {}],
      run: (v) => listenToKeyspace(redis, { namespace: 'c', targets: never(v) }),
    },
    {
      option: 'targets[0]',
      values: [5, {}],
      run: (v) => listenToKeyspace(redis, { namespace: 'c', targets: [never(v)] }),
    },
    {
      option: 'allowConfig',
      values: BAD.boolean,
      run: (v) => listenToKeyspace(redis, { namespace: 'c', targets: [], allowConfig: never(v) }),
    },
  ],
};

for (const [feature, featureRows] of Object.entries(rows)) {
  describe(`${feature} options`, () => {
    for (const row of featureRows) {
      for (const value of row.values) {
        it(`refuses ${row.option} = ${shown(value)}`, () => expectConfigError(() => row.run(value), row.option, value));
      }
    }
  });
}
