/** Loopback ports for the demo's servers. */
import { createServer } from 'node:net';

/** Resolves `port` if it can be bound on 127.0.0.1 right now, else a free port the OS picks (0 asks for that). */
export function bindablePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (port !== 0 && (error.code === 'EADDRINUSE' || error.code === 'EACCES')) resolve(bindablePort(0));
      else reject(error);
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}
