/**
 * What went wrong with a connection, in words a user can act on: which
 * address, what happened (refused, timed out, credentials, TLS, database
 * index, closed client), and whether a failed command may have run.
 *
 * The facts come from the client (`ConnectionFacts`); the low-level error
 * (`ECONNREFUSED`, a TLS alert, `WRONGPASS`) is classified into a
 * {@link FailureKind}. Messages never carry a password.
 */
import { redactSecret } from './redact.js';

/** What happened to a connection. */
export type FailureKind =
  /** Nothing listens at the address (ECONNREFUSED, or no socket file). */
  | 'refused'
  /** The host name does not resolve. */
  | 'not-found'
  /** No route to the host. */
  | 'unreachable'
  /** The TCP connection attempt got no answer within connectTimeout (a firewall dropping packets, a host down). */
  | 'connect-timeout'
  /** The TLS handshake got no answer: the port may not speak TLS. */
  | 'tls-timeout'
  /** Connected, but Redis never answered (stopped with SIGSTOP, overloaded, blocked). */
  | 'no-answer'
  /** The server closed or reset the connection. */
  | 'reset'
  /** The TLS handshake failed (certificate, protocol). */
  | 'tls'
  /** The server refused the credentials. */
  | 'auth'
  /** The server refused the database index. */
  | 'db'
  /** The client was closed with close(). */
  | 'closed';

/** A classified low-level failure. */
export interface ClassifiedFailure {
  kind: FailureKind;
  /** The error code or reply that told us (`ECONNREFUSED`, `WRONGPASS ...`), redacted. */
  detail: string;
}

/** Where a connection stands, as far as failures are concerned. */
export type ConnectionStage = 'connecting' | 'tls-handshake' | 'redis-handshake' | 'ready' | 'ended';

/** What the client knows when a command fails. */
export interface ConnectionFacts {
  /** `host:port`, `unix:/path`, `sentinel master 'name' via host:port,...` or `cluster host:port,...`; no credentials. */
  readonly address: string;
  readonly tls: boolean;
  readonly stage: ConnectionStage;
  /** The last connection failure since the connection was last ready. */
  readonly lastFailure: ClassifiedFailure | undefined;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly db: number;
  readonly username: string | undefined;
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|HOSTNAME_MISMATCH)/;
const TLS_MESSAGE = /secure TLS connection|certificate|SSL routines|wrong version number|tlsv1 alert|ssl3_|handshake/i;

/**
 * The kind of a low-level connection error, or undefined when it says
 * nothing about the connection (a reply error of one command).
 */
export function classifyConnectionError(error: unknown, password?: string): ClassifiedFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const codeText = typeof code === 'string' ? code : '';
  const message = redactSecret(error.message, password);
  const detail = codeText && !message.includes(codeText) ? `${codeText}: ${message}` : message;
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH .*failed|without any password configured/i.test(message)) {
    return { kind: 'auth', detail };
  }
  if (/DB index is out of range|invalid DB index/i.test(message)) return { kind: 'db', detail };
  if (TLS_CODE.test(codeText) || TLS_MESSAGE.test(message)) return { kind: 'tls', detail };
  if (codeText === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return { kind: 'refused', detail };
  // A unix socket path with no file behind it: the same as a closed port.
  if (codeText === 'ENOENT' || codeText === 'ENOTSOCK') return { kind: 'refused', detail };
  if (codeText === 'ENOTFOUND' || codeText === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) {
    return { kind: 'not-found', detail };
  }
  if (/^(EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN)$/.test(codeText)) return { kind: 'unreachable', detail };
  if (codeText === 'ETIMEDOUT' || /connect ETIMEDOUT/.test(message)) return { kind: 'connect-timeout', detail };
  if (/^(ECONNRESET|EPIPE|ECONNABORTED)$/.test(codeText) || /ECONNRESET|EPIPE|socket hang up/.test(message)) {
    return { kind: 'reset', detail };
  }
  return undefined;
}

/** The kind to report for a command that was never sent, from what the connection went through. */
export function kindWhileNotConnected(facts: ConnectionFacts): FailureKind | undefined {
  if (facts.lastFailure) return facts.lastFailure.kind;
  switch (facts.stage) {
    case 'connecting':
      return 'connect-timeout';
    case 'tls-handshake':
      return 'tls-timeout';
    case 'redis-handshake':
      return 'no-answer';
    case 'ended':
      return 'closed';
    default:
      return undefined;
  }
}

/** One sentence on what happened, naming the address and the kind. */
export function describeFailure(kind: FailureKind, facts: ConnectionFacts, detail?: string): string {
  const at = `Redis at ${facts.address}`;
  const why = detail ? ` (${detail})` : '';
  switch (kind) {
    case 'refused':
      return `${at} refused the connection${why}: nothing is listening there. Check that Redis is running and that the host and port (or socket path, REDIS_URL) are right.`;
    case 'not-found':
      return `The host of ${facts.address} could not be resolved${why}. Check the host name.`;
    case 'unreachable':
      return `${at} is unreachable${why}: there is no route to the host.`;
    case 'connect-timeout':
      return `Connecting to ${at} timed out${why}: the connection attempt got no answer within connectTimeout (${facts.connectTimeoutMs} ms). A firewall may drop the packets (blackholed), or the host is down.`;
    case 'tls-timeout':
      return `The TLS handshake with ${at} timed out${why}: the server accepted the connection but never answered the TLS hello. It may not speak TLS on that port (use redis:// rather than rediss://, or tls: false).`;
    case 'no-answer':
      return `${at} timed out${why}: it accepted the connection but did not answer (the server is stopped, frozen, overloaded or blocked, or the network drops packets).`;
    case 'reset':
      return `${at} closed the connection${why}.${
        facts.tls || facts.stage === 'ready'
          ? ''
          : ' If that port serves TLS, connect with rediss:// (or tls: true): a TLS server resets plain connections.'
      }`;
    case 'tls':
      return `TLS failed with ${at}${why}. ${
        facts.tls
          ? 'Check tls.ca (the CA that signed the server certificate), tls.servername, and that the server speaks TLS on this port.'
          : 'The client is not using TLS; use rediss:// (or tls: true) for a TLS port.'
      }`;
    case 'auth':
      return `${at} refused the credentials${facts.username ? ` of user '${facts.username}'` : ''} (auth failed)${why}. Check the username and password options (REDIS_USERNAME, REDIS_PASSWORD or the URL).`;
    case 'db':
      return `${at} refused database index ${facts.db} (bad db index)${why}: the server has fewer databases (its \`databases\` setting, 16 by default). Nothing was sent to any other database; fix the db option (REDIS_DB or the URL path).`;
    case 'closed':
      return 'This client was closed with close(); create a new one with createRedis().';
  }
}

/** What a failed command's caller needs to know about its effect. */
export function outcomeOf(command: string, sent: boolean | undefined): string {
  if (sent === false) return `${command} was not sent, so it did not run.`;
  if (sent === true) return `The outcome of ${command} is unknown: it was sent and may have been applied.`;
  return `${command} may or may not have run.`;
}
