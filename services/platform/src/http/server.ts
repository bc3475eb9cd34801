import http from 'node:http';
import type Koa from 'koa';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: http.Server;
  port: number;
  url: string;
  /**
   * Stops accepting connections and resolves once in-flight requests have finished; connections still open
   * after `forceAfterMs` (default 10 s) are cut.
   */
  close(forceAfterMs?: number): Promise<void>;
}

export async function startHttpServer(app: Koa, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  const server = http.createServer(app.callback());
  // Longer than typical load-balancer idle timeouts so the proxy closes idle connections first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 60_000;
  // While closing, every response asks the client to drop its keep-alive connection, so in-flight requests
  // finish normally and then their sockets close instead of lingering until the keep-alive timeout.
  let closing = false;
  const openResponses = new Set<http.ServerResponse>();
  server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
    if (closing) response.setHeader('Connection', 'close');
    openResponses.add(response);
    response.once('close', () => openResponses.delete(response));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: (forceAfterMs = 10_000) => {
      closing = true;
      for (const response of openResponses) if (!response.headersSent) response.setHeader('Connection', 'close');
      // Keep-alive sockets whose last response went out before `closing` was set become idle later: sweep them.
      const idleSweeper = setInterval(() => server.closeIdleConnections(), 100);
      const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
      return new Promise<void>((resolve, reject) => {
        server.close((error) => {
          clearInterval(idleSweeper);
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
