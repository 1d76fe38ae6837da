/**
 * What a client knows about its main connection, for error messages: the
 * address it dials, how far the current attempt got (TCP, TLS, the Redis
 * handshake, ready), the last failure since it was last ready, and a fatal
 * failure (a database index the server refuses) that must stop every command.
 */
import type { Cluster, Redis } from 'ioredis';
import {
  type ClassifiedFailure,
  type ConnectionFacts,
  type ConnectionStage,
  classifyConnectionError,
} from './connection-failure.js';
import { connectionFailure } from './error-mapping.js';
import { StratacacheError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** The address of a client's options, without credentials. */
export function addressOf(o: ResolvedOptions): string {
  const nodes = (list: readonly { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  if (o.mode === 'cluster') return `cluster ${nodes(o.clusterNodes)}`;
  if (o.mode === 'sentinel') return `master '${o.sentinelName}' via sentinels ${nodes(o.sentinels)}`;
  if (o.socketPath) return `unix:${o.socketPath}`;
  return `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
}

/** Where a client connects, for `toString()`: URL form with the password shown as `***`. */
export function describeTarget(o: ResolvedOptions, hasPassword: boolean): string {
  const nodes = (list: readonly { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  if (o.mode === 'cluster') return `cluster ${nodes(o.clusterNodes)}`;
  if (o.mode === 'sentinel') return `sentinel ${o.sentinelName} via ${nodes(o.sentinels)}`;
  if (o.socketPath) return `unix:${o.socketPath}`;
  const auth = o.username ? `${o.username}:***@` : hasPassword ? ':***@' : '';
  return `${o.tls ? 'rediss' : 'redis'}://${auth}${o.host}:${o.port}/${o.db}`;
}

/** Connection facts of one client, kept current from its main connection's events. */
export class ConnectionState {
  readonly address: string;
  private stage: ConnectionStage = 'connecting';
  private lastFailure: ClassifiedFailure | undefined;
  /** A failure after which no command may be sent (the database index). */
  fatal: StratacacheError | undefined;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly password: string | undefined,
  ) {
    this.address = addressOf(options);
  }

  /** The facts for an error message now. */
  facts(): ConnectionFacts {
    const o = this.options;
    return {
      address: this.address,
      tls: Boolean(o.tls),
      stage: this.stage,
      lastFailure: this.lastFailure,
      connectTimeoutMs: o.connectTimeoutMs,
      commandTimeoutMs: o.commandTimeoutMs,
      db: o.db,
      username: o.username,
    };
  }

  /** Follows a new socket of the main connection through TCP and TLS. */
  onSocket(stream: NodeJS.EventEmitter): void {
    this.stage = 'connecting';
    const tls = Boolean(this.options.tls) && this.options.mode !== 'sentinel';
    stream.once('connect', () => {
      if (this.stage === 'connecting') this.stage = tls ? 'tls-handshake' : 'redis-handshake';
    });
    stream.once('secureConnect', () => {
      if (this.stage === 'connecting' || this.stage === 'tls-handshake') this.stage = 'redis-handshake';
    });
  }

  /** The main connection is ready: earlier failures are history. */
  onReady(): void {
    this.stage = 'ready';
    this.lastFailure = undefined;
  }

  /** The main connection closed; it reconnects unless it ended. */
  onClose(status: string): void {
    this.stage = status === 'end' ? 'ended' : 'connecting';
  }

  /**
   * Records a connection-level error of the main connection and returns the
   * error to report for it. A refused database index becomes fatal, and the
   * connection is dropped before its queued commands can run on database 0.
   */
  onError(error: unknown, connection: Redis | Cluster): StratacacheError | undefined {
    // Our own fatal error, rejected to the ready check and re-emitted by ioredis: already reported.
    if (StratacacheError.isInstance(error)) return error;
    let classified = classifyConnectionError(error, this.password);
    // The ready check (INFO) timing out during the handshake: Redis accepted the socket but does not answer.
    if (!classified && error instanceof Error && /command timed out/i.test(error.message) && this.stage !== 'ready') {
      classified = { kind: 'no-answer', detail: 'no reply to the connection handshake' };
    }
    if (!classified) return undefined;
    // ioredis's connectTimeout covers the TLS handshake too: past a TCP connect, it is the handshake that timed out.
    if (classified.kind === 'connect-timeout' && this.stage === 'tls-handshake') {
      classified = { kind: 'tls-timeout', detail: classified.detail };
    }
    this.lastFailure = classified;
    const failure = connectionFailure(classified.kind, this.facts(), classified.detail, undefined, undefined, error);
    if (classified.kind === 'db' && !this.fatal) {
      this.fatal = failure;
      connection.disconnect();
      // disconnect() ends the socket gracefully: a reply still in flight could make the connection ready.
      (connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    }
    return failure;
  }
}
