/**
 * Scripts loaded before they are needed. Every script a client runs (or a
 * layer registers at construction) is sent with SCRIPT LOAD on each connection
 * before that connection's first command: after a connect, a reconnect, a
 * Sentinel failover, and on every Cluster node. So the first EVALSHA of a
 * burst finds its script instead of paying NOSCRIPT plus an EVAL of the whole
 * source per call (500 calls on a fresh connection used to run past a rate
 * limiter's 250 ms deadline).
 *
 * The load is written to the socket just ahead of the command that triggered
 * it, so Redis runs it first; its reply is not awaited. EVALSHA still falls
 * back to EVAL on NOSCRIPT (`SCRIPT FLUSH`, an ACL user without SCRIPT).
 */
import type { Redis } from 'ioredis';
import { publishDiagnostic } from './diagnostics.js';
import type { LuaScript } from './scripts.js';

interface Loaded {
  epoch: number;
  shas: Set<string>;
}

/** The scripts of one client, and which connection has which loaded. */
export class ScriptRegistry {
  private readonly scripts = new Map<string, LuaScript>();
  private readonly loaded = new WeakMap<object, Loaded>();

  constructor(private readonly client: string) {}

  /** Adds scripts; each is loaded on every connection before its next command. */
  register(scripts: Iterable<LuaScript>): void {
    for (const script of scripts) if (!this.scripts.has(script.sha1)) this.scripts.set(script.sha1, script);
  }

  /** Whether `script` is registered. */
  has(script: LuaScript): boolean {
    return this.scripts.has(script.sha1);
  }

  /** How many scripts are registered. */
  get size(): number {
    return this.scripts.size;
  }

  /**
   * Called (by the command guard) before a command goes out on `connection`
   * while it is ready: sends SCRIPT LOAD for every registered script this
   * connection has not loaded since it (re)connected.
   */
  beforeSend(connection: Redis): void {
    // ioredis counts connection attempts: a new epoch is a new server-side session (maybe a new server).
    const epoch = (connection as unknown as { connectionEpoch?: number }).connectionEpoch ?? 0;
    let state = this.loaded.get(connection);
    if (!state || state.epoch !== epoch) {
      state = { epoch, shas: new Set() };
      this.loaded.set(connection, state);
    }
    if (state.shas.size === this.scripts.size) return;
    for (const script of this.scripts.values()) {
      if (state.shas.has(script.sha1)) continue;
      // Marked first: the SCRIPT LOAD passes through this hook too.
      state.shas.add(script.sha1);
      connection.script('LOAD', script.source).then(
        (sha) => {
          if (sha !== script.sha1) this.failed(script, `the server answered SHA ${String(sha)}`);
        },
        (error: unknown) => this.failed(script, error instanceof Error ? error.message : String(error)),
      );
    }
  }

  /** A failed load only costs the EVAL fallback; it is published, never thrown. */
  private failed(script: LuaScript, message: string): void {
    publishDiagnostic('scriptLoadError', { client: this.client, script: script.name, message });
  }
}
