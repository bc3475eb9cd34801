import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { startWebServer, WEB_APP_CONTENT_SECURITY_POLICY, type RunningWebServer } from '../src/server/web-server';

/** A raw GET, so paths like /../ reach the server unnormalised. */
function rawGet(url: string, requestPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path: requestPath }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
      .on('error', reject);
  });
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the web app server', () => {
  let web: RunningWebServer;
  let staticDir: string;

  beforeAll(async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'web-app-'));
    staticDir = path.join(parent, 'public');
    mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(path.join(staticDir, 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(path.join(parent, 'secret.txt'), 'outside');
    const down = `http://127.0.0.1:${await closedPort()}`;
    web = await startWebServer({ HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', STATIC_DIR: staticDir, EVENT_API_URL: down, BOOKING_API_URL: down });
  });

  afterAll(async () => {
    await web?.stop();
  });

  test('when the page is requested, then it comes with the app’s CSP and never-cache, assets with a long cache', async () => {
    const page = await rawGet(web.url, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>app</title>');
    expect(page.headers['content-security-policy']).toBe(WEB_APP_CONTENT_SECURITY_POLICY);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await rawGet(web.url, '/assets/app-1.js');
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
  });

  test('when a path tries to climb out of the static folder, then it is refused and nothing outside is served', async () => {
    for (const attempt of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00index.html']) {
      const answer = await rawGet(web.url, attempt);
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain('outside');
    }
  });

  test('when an API is unreachable, then the proxy answers the contract’s JSON error with 502, and internal routes are not proxied', async () => {
    const answer = await rawGet(web.url, '/api/v1/events');
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).error.code).toBe('BAD_GATEWAY');
    expect((await rawGet(web.url, '/api/internal/sessions/x/pricing')).status).toBe(404);
  });

  test('when an API streams Server-Sent Events, then each event reaches the browser through the proxy as it is written, with Last-Event-ID passed on', async () => {
    let lastEventId: string | undefined;
    let release: () => void = () => undefined;
    const upstream = http.createServer((request, response) => {
      lastEventId = request.headers['last-event-id'] as string | undefined;
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write('id: 8\nevent: seats\ndata: {"session_seat_id":"a","status":"reserved"}\n\n');
      release = () => response.end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    const streaming = await startWebServer({ HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', STATIC_DIR: staticDir, EVENT_API_URL: upstreamUrl, BOOKING_API_URL: upstreamUrl });
    try {
      const response = await fetch(`${streaming.url}/api/v1/sessions/s/seat-map/stream`, { headers: { 'Last-Event-ID': '7' } });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body!.getReader();
      // The upstream has not ended: the first event must arrive anyway (no buffering in the proxy).
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain('event: seats');
      expect(lastEventId).toBe('7');
      release();
      await reader.cancel();
    } finally {
      await streaming.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
