import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';

/** Sends the headers and the first half of a JSON body, leaving the request in flight. */
function startSlowRequest(port: number, path: string, body: string) {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  const half = Math.floor(body.length / 2);
  req.write(body.slice(0, half));
  return { finish: () => req.end(body.slice(half)), response };
}

test('stop() lets an in-flight request finish, refuses new connections, then resolves', async () => {
  const api = await startTestApi();
  const body = JSON.stringify({ name: 'Shutdown Organizer', description: 'created while stopping' });
  // Node publishes on this channel when the (in-process) server has parsed a request's headers.
  const received = new Promise<void>((resolve) => {
    const onStart = (message: unknown) => {
      if ((message as { request: http.IncomingMessage }).request.url === '/api/v1/organizers') {
        diagnostics.unsubscribe('http.server.request.start', onStart);
        resolve();
      }
    };
    diagnostics.subscribe('http.server.request.start', onStart);
  });
  const inFlight = startSlowRequest(api.port, '/api/v1/organizers', body);
  await received;

  let stopped = false;
  const stopping = api.stop().then(() => {
    stopped = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(stopped).toBe(false);
  await expect(request(api.url, 'GET', '/health')).rejects.toThrow();

  inFlight.finish();
  const response = await inFlight.response;
  expect(response.status).toBe(201);
  expect(JSON.parse(response.body)).toMatchObject({ name: 'Shutdown Organizer' });
  await stopping;
  expect(stopped).toBe(true);
});
