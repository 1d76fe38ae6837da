/**
 * A PostgreSQL wire-protocol server in front of one PGlite database, for
 * several client connections (the two instances' `pg` pools).
 *
 * PGlite is one backend session. pglite-socket (0.2.17) hands it the clients'
 * messages one at a time and keeps a client's messages together only while a
 * transaction is open; an extended-protocol query (Parse, Bind, Execute, Sync)
 * is no transaction, so two clients' queries interleave and one binds the
 * other's statement: "portal does not exist", or silently another client's
 * rows (electric-sql/pglite#1046, seen here under the load run). This server
 * gives the session to one connection from its first message until the
 * backend says it is idle again (ReadyForQuery with status `I`): a whole
 * extended-protocol batch, a whole transaction. Other connections wait their
 * turn in arrival order, as with a transaction-mode pooler in front of a
 * single connection.
 *
 * What a single session still shares: session settings (`SET`), named
 * prepared statements, LISTEN. The demo uses none of them across connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80_877_103;
const CANCEL_REQUEST = 80_877_102;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S', length 4

/** One client connection: its socket and the complete messages it sent that were not run yet. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  readonly pending: Buffer[] = [];
  closed = false;

  constructor(readonly socket: Socket) {}

  /** Splits what arrived into whole messages (the first ones have no type byte: SSL, cancel, startup). */
  receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (code === SSL_REQUEST)
          this.socket.write('N'); // no TLS on loopback; the client goes on in plain text
        else if (code === CANCEL_REQUEST)
          this.socket.destroy(); // cancelling is not supported: close, as the server would
        else {
          this.started = true;
          this.pending.push(Buffer.from(message));
        }
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) return;
      this.pending.push(Buffer.from(this.buffer.subarray(0, length)));
      this.buffer = this.buffer.subarray(length);
    }
  }
}

/** The status byte of the last ReadyForQuery in `output` (`I` idle, `T` in a transaction, `E` failed one), if any. */
export function lastReadyStatus(output: Uint8Array): string | undefined {
  let status: string | undefined;
  let at = 0;
  while (at + 5 <= output.length) {
    const type = output[at] as number;
    const length =
      ((output[at + 1] as number) << 24) |
      ((output[at + 2] as number) << 16) |
      ((output[at + 3] as number) << 8) |
      (output[at + 4] as number);
    if (type === 0x5a && length === 5 && at + 5 < output.length) status = String.fromCharCode(output[at + 5] as number);
    at += 1 + length;
  }
  return status;
}

/**
 * The server. `listen(port)` on 127.0.0.1 (0: a free port, resolved), `close()` stops it. The
 * database may come later (`attach`): the port can be known, and bound, before PGlite has started;
 * connections made meanwhile wait.
 */
export class PgliteWireServer {
  private readonly server: Server;
  private readonly waiting: Connection[] = [];
  /** The connection the session belongs to until the backend is idle again. */
  private owner: Connection | undefined;
  private running = false;
  private readonly sockets = new Set<Socket>();

  private db: PGlite | undefined;

  constructor(db?: PGlite) {
    this.db = db;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on 127.0.0.1:`port`; resolves the port (the one the OS chose for 0). */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Gives the server its database; connections that arrived before it go on. */
  attach(db: PGlite): void {
    this.db = db;
    void this.drain();
  }

  /** Stops listening and ends every connection. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const connection = new Connection(socket);
    socket.on('data', (chunk: Buffer) => {
      connection.receive(chunk);
      if (connection.pending.length > 0 && connection !== this.owner && !this.waiting.includes(connection))
        this.waiting.push(connection);
      void this.drain();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      connection.closed = true;
      connection.pending.length = 0;
      const at = this.waiting.indexOf(connection);
      if (at >= 0) this.waiting.splice(at, 1);
      void this.drain();
    });
  }

  /** Runs messages, one connection's turn at a time, until nothing is pending. */
  private async drain(): Promise<void> {
    const db = this.db;
    if (this.running || !db) return;
    this.running = true;
    try {
      for (;;) {
        if (this.owner?.closed) await this.abandon();
        const connection = this.owner ?? this.waiting.shift();
        if (!connection) return;
        const message = connection.pending.shift();
        if (!message) {
          // The owner is mid-batch or mid-transaction and has not sent its next message yet: wait for it.
          if (this.owner) return;
          continue;
        }
        if (message[0] === 0x58) {
          // Terminate: the backend is shared, so it is not told; the connection just ends.
          connection.socket.end();
          continue;
        }
        this.owner = connection;
        let output: Uint8Array;
        try {
          output = await db.runExclusive(() => db.execProtocolRaw(message));
        } catch (error) {
          // Not an SQL error (those come back as ErrorResponse messages): the connection cannot go on.
          console.error(`pglite: a client's message failed: ${(error as Error).message}`);
          connection.closed = true;
          connection.socket.destroy();
          continue;
        }
        if (!connection.closed && output.length > 0) connection.socket.write(output);
        // Idle again (after a Sync or a simple query outside a transaction): the next connection's turn.
        if (lastReadyStatus(output) === 'I') {
          this.owner = undefined;
          if (connection.pending.length > 0) this.waiting.push(connection);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The owner went away mid-batch or mid-transaction: end its batch and roll its transaction back. */
  private async abandon(): Promise<void> {
    this.owner = undefined;
    const db = this.db;
    if (!db) return;
    // Best effort: if PGlite cannot even take these, the next client's statement reports its state.
    await db.runExclusive(() => db.execProtocolRaw(SYNC)).catch(() => {});
    if (db.isInTransaction()) await db.exec('ROLLBACK').catch(() => {});
  }
}
