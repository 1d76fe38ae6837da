/**
 * Readiness by PING over a raw RESP connection: no client library, no retry
 * logic of its own to fight with, and it can speak before AUTH succeeds.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Where and how to reach a server for a PING. */
export interface PingTarget {
  host?: string;
  port?: number;
  /** Unix socket path; wins over host and port. */
  socketPath?: string;
  username?: string;
  password?: string;
  /** TLS settings; when set, the connection is TLS. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string };
}

function command(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** Sends AUTH (when a password is given) and PING; resolves true on +PONG within `timeoutMs`. */
export function ping(target: PingTarget, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: Socket;
    let done = false;
    let reply = '';
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onConnect = (): void => {
      const auth = target.password
        ? target.username
          ? command('AUTH', target.username, target.password)
          : command('AUTH', target.password)
        : '';
      socket.write(auth + command('PING'));
    };
    if (target.tls) {
      socket = tlsConnect(
        {
          host: target.host ?? '127.0.0.1',
          port: target.port ?? 6379,
          ca: target.tls.ca,
          cert: target.tls.cert,
          key: target.tls.key,
          servername: target.tls.servername ?? 'localhost',
        },
        onConnect,
      );
    } else if (target.socketPath) {
      socket = netConnect({ path: target.socketPath }, onConnect);
    } else {
      socket = netConnect({ host: target.host ?? '127.0.0.1', port: target.port ?? 6379 }, onConnect);
    }
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('+PONG')) finish(true);
      else if (reply.includes('-')) finish(false);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** Polls {@link ping} until it answers or `timeoutMs` passes; `alive` may abort early (the process died). */
export async function waitForPing(
  target: PingTarget,
  { timeoutMs = 10_000, alive = () => true }: { timeoutMs?: number; alive?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (Date.now() < deadline) {
    if (!alive()) return false;
    if (await ping(target, Math.min(1000, Math.max(50, deadline - Date.now())))) return true;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  return false;
}
