/**
 * Keeps a late socket error from crashing the process.
 *
 * ioredis's connectors listen for a socket's errors with `once`, so a second
 * error on the same socket (a TLS handshake that fails with an alert after a
 * reset, seen in our own TLS tests as "tlsv1 alert decode error") has no
 * listener and becomes an uncaught exception: a known ioredis problem
 * (redis/ioredis#962, closed as wontfix). We add a listener of our own to each
 * socket a connector creates; ioredis still handles the first error as before.
 */
import type { Redis } from 'ioredis';

interface WithConnector {
  connector?: { connect: (...args: unknown[]) => Promise<NodeJS.EventEmitter> };
}

/**
 * Wraps the connector of `connection` (standalone or Sentinel) so every socket
 * it makes has an error listener; `onSocket` sees each new socket first.
 */
export function guardSockets(
  connection: Redis,
  onError: (error: unknown) => void,
  onSocket?: (stream: NodeJS.EventEmitter) => void,
): void {
  const connector = (connection as unknown as WithConnector).connector;
  if (!connector || typeof connector.connect !== 'function') return;
  const original = connector.connect.bind(connector);
  connector.connect = async (...args: unknown[]) => {
    const stream = await original(...args);
    onSocket?.(stream);
    stream.on('error', onError);
    return stream;
  };
}
