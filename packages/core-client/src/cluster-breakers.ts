/**
 * Circuit breakers per Cluster node. One breaker for a whole Cluster turns
 * one shard's outage into an outage of every key: with a master killed, the
 * failures of its keys open the breaker and the keys of the healthy masters
 * are refused too. Here every keyed command is gated by the breaker of the
 * node owning its slot when it is issued, and its failure is counted against
 * that node only.
 *
 * While a node's breaker is open, its keys fail at once and the slot map is
 * refreshed (at most every 200 ms): once Redis promotes a replica, the slots
 * point at the new master, whose breaker is closed, and the keys work again
 * without waiting for the open duration. A node whose connection becomes
 * ready again has its breaker closed.
 *
 * `redis.breaker` on Cluster is the summary: `open` only while the breaker of
 * every master is open (the whole Cluster is unreachable: skip Redis
 * altogether), `half-open` while some are not closed, `closed` otherwise.
 */
import type { Cluster, Redis } from 'ioredis';
import { type Admission, type BreakerState, CircuitBreaker, type CircuitBreakerSettings } from './breaker.js';
import type { NodeGate } from './command-guard.js';
import { mapRedisError } from './error-mapping.js';
import { CircuitOpenError } from './errors.js';

/** The slot of a queued ioredis command, when it has keys. */
interface SlottedCommand {
  getSlot?(): number | null;
}

/** Slot map refreshes asked for while a node's breaker refuses commands: at most one per this many ms. */
const REFRESH_EVERY_MS = 200;

/** The summary breaker of a Cluster client, holding one breaker per node. */
export class ClusterBreaker extends CircuitBreaker implements NodeGate {
  private readonly byNode = new Map<string, CircuitBreaker>();
  private cluster: Cluster | undefined;
  private lastRefresh = Number.NEGATIVE_INFINITY;

  constructor(settings: Omit<CircuitBreakerSettings, 'node'>) {
    super(settings);
  }

  /** Connects the breakers to the client's main Cluster connection (once it exists). */
  attach(cluster: Cluster): void {
    this.cluster = cluster;
    // A node connection that becomes ready again: that node is back.
    cluster.on('+node', (node: Redis) => {
      node.on('ready', () => this.byNode.get(nodeKey(node))?.reset());
    });
  }

  /** The summary state (see the file comment). */
  override get state(): BreakerState {
    this.summarise();
    return this.current;
  }

  /** True while every node's breaker is closed. */
  override get closed(): boolean {
    for (const breaker of this.byNode.values()) if (!breaker.closed) return false;
    return true;
  }

  /** The state of each node's breaker that has seen a failure (`host:port` to state). */
  nodes(): Record<string, BreakerState> {
    const states: Record<string, BreakerState> = {};
    for (const [node, breaker] of this.byNode) states[node] = breaker.state;
    return states;
  }

  /** Calls are gated per node, at the command: the summary admits every call. */
  override admit(): Admission | CircuitOpenError {
    return 'pass';
  }

  /** Outcomes are counted per node, at the command. */
  override settle(): void {}

  /** Failures are counted per node, at the command. */
  override recordFailure(): void {}

  /** Closes every node's breaker. */
  override reset(): void {
    for (const breaker of this.byNode.values()) breaker.reset();
    this.summarise();
  }

  /** The node (`host:port`) serving `command`'s slot now; undefined for a command without keys. */
  ownerOf(command: unknown): string | undefined {
    const slot = (command as SlottedCommand).getSlot?.();
    if (slot === null || slot === undefined) return undefined;
    return this.cluster?.slots[slot]?.[0];
  }

  /** Admits a command for `node`, or the error to refuse it with (and asks for a fresh slot map). */
  admitNode(node: string): Admission | CircuitOpenError {
    const breaker = this.byNode.get(node);
    if (breaker === undefined) return 'pass';
    const admission = breaker.admit();
    if (admission instanceof CircuitOpenError) this.refreshSlots();
    return admission;
  }

  /** Counts the outcome of a command admitted for `node` (`error` as ioredis rejected it). */
  settleNode(node: string, admission: Admission, error?: unknown): void {
    if (error === undefined) {
      this.byNode.get(node)?.settle(admission);
      return;
    }
    const mapped = mapRedisError(error);
    let breaker = this.byNode.get(node);
    // Created on a node's first availability failure: a healthy Cluster keeps no breakers at all.
    if (breaker === undefined) {
      if (mapped.code !== 'E_CONNECTION' && mapped.code !== 'E_TIMEOUT') return;
      breaker = new CircuitBreaker({ ...this.settings, node });
      breaker.on('state', () => this.summarise());
      this.byNode.set(node, breaker);
    }
    breaker.settle(admission, mapped);
  }

  /** Recomputes the summary from the nodes' breakers, publishing a change. */
  private summarise(): void {
    if (this.byNode.size === 0) {
      this.transition('closed');
      return;
    }
    const masters = this.cluster?.nodes('master').map(nodeKey) ?? [];
    const relevant = masters.length > 0 ? masters : [...this.byNode.keys()];
    let open = 0;
    let notClosed = 0;
    for (const node of relevant) {
      const state = this.byNode.get(node)?.state ?? 'closed';
      if (state === 'open') open++;
      if (state !== 'closed') notClosed++;
    }
    this.transition(open === relevant.length ? 'open' : notClosed > 0 ? 'half-open' : 'closed');
  }

  private refreshSlots(): void {
    const now = performance.now();
    if (now - this.lastRefresh < REFRESH_EVERY_MS) return;
    this.lastRefresh = now;
    this.cluster?.refreshSlotsCache();
  }
}

/** `host:port` of a node connection, as ioredis keys its slot map. */
function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
