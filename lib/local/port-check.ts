/**
 * Finding out at once that the HTTP port is taken. Starting DynamoDB Local takes seconds
 * (minutes on a busy machine); a busy port found only when the HTTP server binds, after
 * all that, wastes the wait and ends in a bare EADDRINUSE.
 */
import { createServer } from 'node:net';

/** The HTTP port is taken by another process. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
    /** The setting that picks this port (`PORT`, `LAMBDA_PORT`). */
    readonly setting = 'PORT',
  ) {
    super(`port ${port} on ${host} is already in use (another mlplane or Elasticsearch?): stop that process, or set ${setting} to a free port`);
    this.name = 'PortInUseError';
  }
}

/**
 * Resolves when `port` can be bound on `host` (by listening on it and closing again);
 * port 0 always can. Another process may still take the port before the real server
 * binds it; that rare case ends in the server's own EADDRINUSE.
 * @throws PortInUseError when the port is taken (EADDRINUSE)
 * @throws the listen error otherwise (EACCES for a privileged port, EADDRNOTAVAIL for a foreign host)
 */
export async function assertPortFree(port: number, host = '127.0.0.1', setting = 'PORT'): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, host, setting) : err));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve()));
  });
}
