/**
 * How a namespace follows the invalidation bus: every message about it (from
 * any instance, this one included) drops or expires the matching memory
 * entries, and is recorded in the coherence tracker, so a read or write
 * racing it does not put an old value back in memory and a later getOrSet
 * does not join a load that began before it.
 */
import type { NamespaceState } from './state.js';

/** Registers the namespace with the bus; returns the unregister function (undefined without a bus). */
export function registerBusTarget(ns: NamespaceState): (() => void) | undefined {
  const { memory, bus, coherence } = ns.ctx;
  if (!bus) return undefined;
  const inNamespace = (key: string) => key.startsWith(ns.nsHead);
  return bus.register({
    namespace: ns.name,
    deleteLocal: (items) => {
      coherence.keysInvalidated(items);
      for (const key of items) memory?.delete(key);
    },
    expireLocal: (items, sent) => {
      // Stale now at the latest, whatever time the sender stamped.
      const at = Math.min(sent, ns.ctx.clock.now());
      coherence.keysInvalidated(items);
      for (const key of items) {
        const entry = memory?.peek(key);
        if (!entry) continue;
        if (entry.expiresAt > at) entry.expiresAt = at;
        if (entry.checkAt > at) entry.checkAt = at;
      }
    },
    deleteLocalByPrefix: (prefixes) => {
      coherence.wideInvalidation();
      memory?.deleteWhere((key) => prefixes.some((p) => key.startsWith(ns.nsHead + p)));
    },
    deleteLocalByTags: (tags) => {
      coherence.wideInvalidation();
      memory?.deleteWhere((key, entry) => inNamespace(key) && entry.tags.some((t) => tags.includes(t)));
    },
    expireLocalByTags: (tags, sent) => {
      coherence.wideInvalidation();
      memory?.expireWhere(
        Math.min(sent, ns.ctx.clock.now()),
        (key, entry) => inNamespace(key) && entry.tags.some((t) => tags.includes(t)),
      );
    },
    clearLocal: () => {
      coherence.wideInvalidation();
      memory?.deleteWhere(inNamespace);
    },
  });
}
