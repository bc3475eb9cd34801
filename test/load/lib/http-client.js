'use strict';
/**
 * The load generator's HTTP client: node:http with one keep-alive Agent per service, bodies serialized
 * once by the caller, no JSON parsing unless asked. Never rejects: network errors and timeouts come back
 * as status 0 with `error`, so a scenario can count them instead of crashing.
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');

function createClient(baseUrl, { maxSockets = 64, timeoutMs = 10_000 } = {}) {
  const base = new URL(baseUrl);
  if (base.hostname !== '127.0.0.1' && base.hostname !== 'localhost') {
    throw new Error(`the benchmark only talks to 127.0.0.1, not ${base.hostname}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });

  /**
   * One request. `body` may be an object (JSON-encoded here), a string or a Buffer; `discardBody` only
   * counts the answer's bytes (for big answers nobody reads). Resolves to
   * { status, headers, body: Buffer, bytes, started, ended, ms, error? } with times from performance.now().
   */
  function request(method, path, { headers = {}, body, discardBody = false } = {}) {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const allHeaders = { accept: 'application/json', ...headers };
    if (payload) {
      allHeaders['content-type'] ??= 'application/json';
      allHeaders['content-length'] = payload.length;
    }
    const started = performance.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (result) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const ended = performance.now();
        resolve({ started, ended, ms: ended - started, ...result });
      };
      const req = http.request(
        { hostname: base.hostname, port: base.port, method, path, headers: allHeaders, agent },
        (res) => {
          const chunks = [];
          let bytes = 0;
          res.on('data', (chunk) => {
            bytes += chunk.length;
            if (!discardBody) chunks.push(chunk);
          });
          res.on('error', (error) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), bytes, error: error.code ?? error.message }));
          res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, bytes, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
        },
      );
      const timer = setTimeout(() => {
        finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: 'TIMEOUT' });
        req.destroy();
      }, timeoutMs);
      req.on('error', (error) => finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: error.code ?? error.message }));
      req.end(payload);
    });
  }

  /** request() plus the body parsed as JSON (undefined when it is not JSON). */
  async function json(method, path, options) {
    const response = await request(method, path, options);
    let parsed;
    if (response.body.length) {
      try {
        parsed = JSON.parse(response.body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    return { ...response, json: parsed };
  }

  return { request, json, close: () => agent.destroy(), url: base.origin };
}

/** Throws with the status and the start of the body unless the response has the expected status. */
function expectStatus(what, response, status) {
  if (response.status !== status) {
    const text = response.error ?? response.body.toString('utf8').slice(0, 300);
    throw new Error(`${what}: expected HTTP ${status}, got ${response.status} ${text}`);
  }
  return response.json;
}

module.exports = { createClient, expectStatus };
