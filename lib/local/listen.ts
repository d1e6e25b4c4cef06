/**
 * Binding and stopping a local Node HTTP server the same way for every local endpoint (the
 * Elasticsearch API, the Lambda Invoke API): long keep-alive, no request timeout, and a stop
 * that lets in-flight requests finish.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A bound local server. */
export interface ListeningServer {
  server: Server;
  /** The bound port (the one picked when asked for 0). */
  port: number;
  /** Stops accepting connections, lets in-flight requests finish (closing idle keep-alive connections; all after 10 s), then resolves. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Sets the timeouts (keep-alive 65 s, longer than clients' idle timeouts so a client never reuses
 * a socket the server is closing; headers 66 s; no request timeout, as a request may wait for a
 * long command) and binds `port` on `host` (default 127.0.0.1; 0 = any free port).
 * @throws the listen error (e.g. `EADDRINUSE`)
 */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<ListeningServer> {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    server,
    port: bound,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections that finish their request after close() turn idle: close them too.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        server.once('close', () => {
          clearInterval(sweep);
          clearTimeout(force);
        });
      });
      return stopping;
    },
  };
}
