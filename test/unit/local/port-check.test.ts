import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree, PortInUseError } from '../../../lib/local/port-check.ts';

describe('the HTTP port check', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  const listen = async (host: string): Promise<number> => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, host, () => r()));
    return (server.address() as { port: number }).port;
  };

  it('reports a port taken by another server with its number and what to do', async () => {
    const port = await listen('127.0.0.1');
    const check = assertPortFree(port, '127.0.0.1');
    await expect(check).rejects.toBeInstanceOf(PortInUseError);
    await expect(check).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    await expect(check).rejects.toThrow('set PORT to a free port');
  });

  it('reports a port taken on all interfaces when binding 127.0.0.1', async () => {
    const port = await listen('0.0.0.0');
    await expect(assertPortFree(port, '127.0.0.1')).rejects.toBeInstanceOf(PortInUseError);
  });

  it('passes a free port, which stays free, and port 0', async () => {
    const port = await listen('127.0.0.1');
    await new Promise((r) => server!.close(r));
    server = undefined;
    await expect(assertPortFree(port, '127.0.0.1')).resolves.toBeUndefined();
    await expect(assertPortFree(port, '127.0.0.1')).resolves.toBeUndefined();
    await expect(assertPortFree(0)).resolves.toBeUndefined();
  });
});
