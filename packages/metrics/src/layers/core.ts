/** Metrics of core-client: command durations, errors, breaker state, connections, reconnects. */
import { Channels } from '../channels.js';
import { type Registrar, seconds } from '../registrar.js';

const BREAKER_STATE: Readonly<Record<string, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** Registers the core-client metrics on `r`. */
export function coreMetrics(r: Registrar): void {
  const c = Channels.core;
  const redis = r.options.redis;
  const duration = r.histogram(
    'redis_command_duration_seconds',
    'Duration of redis.run() verbs (one verb may send several commands), by connection, verb and result.',
    ['connection', 'command', 'result'],
    'fast',
  );
  const errors = r.events('redis_command_errors_total', 'Failed redis.run() verbs, by error code.', [
    'connection',
    'command',
    'code',
  ]);
  const breaker = r.gauge(
    'redis_breaker_state',
    'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    ['connection'],
    function collect() {
      // Reading the state lets an open breaker whose time is up turn half-open even without traffic.
      if (redis?.breaker)
        this.set({ connection: redis.options.connectionName }, BREAKER_STATE[redis.breaker.state] ?? 0);
    },
  );
  const transitions = r.events('redis_breaker_transitions_total', 'Circuit breaker state changes, by new state.', [
    'connection',
    'to',
  ]);
  const reconnects = r.events('redis_reconnects_total', 'Reconnect attempts scheduled.', ['connection']);
  const up = r.gauge('redis_connection_up', '1 while the connection is ready, 0 after it closed.', ['connection']);
  const resubscribes = r.events(
    'redis_resubscribes_total',
    'Subscriber reconnects after which every channel was subscribed again (messages in between were lost).',
    ['connection'],
  );

  r.on(c.command, (m) => {
    const s = seconds(m.durationMs);
    if (s === undefined) throw new TypeError('durationMs');
    duration.observe(s, m.client, m.command, m.ok === false ? 'error' : 'ok');
  });
  r.on(c.commandError, (m) => errors.inc(1, m.client, m.command, m.code));
  r.on(c.breaker, (m) => {
    const state = BREAKER_STATE[m.to as string];
    if (state === undefined) throw new TypeError('to');
    breaker.set(r.labels(breaker, { connection: m.client }), state);
    transitions.inc(1, m.client, m.to);
  });
  r.on(c.reconnect, (m) => reconnects.inc(1, m.client));
  r.on(c.connect, (m) => up.set(r.labels(up, { connection: m.client }), 1));
  r.on(c.close, (m) => up.set(r.labels(up, { connection: m.client }), 0));
  r.on(c.resubscribed, (m) => resubscribes.inc(1, m.client));
}
