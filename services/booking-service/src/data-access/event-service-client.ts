import http from 'node:http';
import https from 'node:https';
import { seatHoldBatchResponseSchema, seatHoldSchema, sessionOrganizerSchema, type ItemOutcome } from '@ticketing/platform';
import { z } from 'zod';
import {
  EventServiceRejectedError,
  EventServiceUnavailableError,
  type EventServiceClient,
  type ReserveResult,
} from '../domain/event-service';

/**
 * REST client for the event service's internal API. One keep-alive agent (so the booking hot path reuses
 * warm connections), a deadline per call, and one quick retry only where repeating the call is harmless
 * (every call here is: reserve is idempotent per reservation_id, release/confirm act on that reservation's
 * seats only, the rest are reads) and only for failures that say "the connection was stale", never for
 * timeouts (the first attempt may still be running on the other side).
 */

const sessionResponseSchema = z.object({ start_time: z.string() });
const errorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

export interface EventServiceClientOptions {
  baseUrl: string;
  timeoutMs: number;
  internalToken?: string;
  /** Concurrent connections to the event service; the rest queue in the agent. */
  maxSockets?: number;
}

const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

interface RawResponse {
  status: number;
  body: unknown;
}

class RequestFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly sent: boolean,
  ) {
    super(message);
  }
}

export function createEventServiceClient(options: EventServiceClientOptions): EventServiceClient {
  const base = new URL(options.baseUrl);
  const transport = base.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({
    keepAlive: true,
    keepAliveMsecs: 1_000,
    maxSockets: options.maxSockets ?? 64,
    maxFreeSockets: options.maxSockets ?? 64,
    // Idle sockets are dropped before the server's 65 s keep-alive timeout would close them under us.
    timeout: 30_000,
    scheduling: 'lifo',
  });
  const prefix = base.pathname.replace(/\/$/, '');

  function once(method: string, path: string, body: unknown): Promise<RawResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    if (options.internalToken) headers['x-internal-token'] = options.internalToken;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: RequestFailure | undefined, response?: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (error) reject(error);
        else resolve(response as RawResponse);
      };
      const req = transport.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, method, path: prefix + path, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error: NodeJS.ErrnoException) => finish(new RequestFailure(error.message, error.code, true)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            if (text) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            finish(undefined, { status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      const deadline = setTimeout(() => {
        finish(new RequestFailure(`timed out after ${options.timeoutMs} ms`, 'ETIMEDOUT', true));
        req.destroy();
      }, options.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A refused connection never reached the service; anything else may have been written already.
        const sent = error.code !== 'ECONNREFUSED' && error.code !== 'ENOTFOUND' && error.code !== 'EAI_AGAIN';
        finish(new RequestFailure(error.message, error.code, sent));
      });
      req.end(payload);
    });
  }

  async function call(method: string, path: string, body?: unknown): Promise<RawResponse> {
    let response: RawResponse;
    try {
      try {
        response = await once(method, path, body);
      } catch (error) {
        // A pooled keep-alive socket the server had already closed: retry once on a fresh connection.
        if (error instanceof RequestFailure && error.code && STALE_CONNECTION_CODES.has(error.code)) {
          response = await once(method, path, body);
        } else {
          throw error;
        }
      }
    } catch (error) {
      const failure = error as RequestFailure;
      throw new EventServiceUnavailableError(
        `Event service ${method} ${path} failed: ${failure.message}`,
        failure.sent ?? true,
      );
    }
    if (response.status >= 500) {
      throw new EventServiceUnavailableError(`Event service ${method} ${path} answered ${response.status}`, true, response.status);
    }
    if (response.status >= 400) {
      const parsed = errorResponseSchema.safeParse(response.body);
      throw new EventServiceRejectedError(
        response.status,
        parsed.success ? parsed.data.error.code : `HTTP_${response.status}`,
        parsed.success ? parsed.data.error.message : `Event service answered ${response.status}`,
        parsed.success ? parsed.data.error.details : undefined,
      );
    }
    return response;
  }

  function decode<S extends z.ZodType>(schema: S, response: RawResponse, what: string): z.output<S> {
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new EventServiceUnavailableError(`Event service sent an unexpected ${what} response`, true, response.status);
    }
    return parsed.data;
  }

  const sessionPath = (sessionId: string) => `/api/internal/sessions/${encodeURIComponent(sessionId)}`;

  return {
    async reserveSeats(request) {
      const response = await call('POST', `${sessionPath(request.sessionId)}/seats/reserve`, {
        reservation_id: request.reservationId,
        session_seat_ids: request.sessionSeatIds,
        reserved_until: request.reservedUntil.toISOString(),
      });
      return decode(seatHoldSchema, response, 'reserve');
    },
    async reserveSeatsBatch(requests) {
      const response = await call('POST', '/api/internal/holds/batch', {
        holds: requests.map((request) => ({
          session_id: request.sessionId,
          reservation_id: request.reservationId,
          session_seat_ids: request.sessionSeatIds,
          reserved_until: request.reservedUntil.toISOString(),
        })),
      });
      const { results } = decode(seatHoldBatchResponseSchema, response, 'batch hold');
      if (results.length !== requests.length) {
        throw new EventServiceUnavailableError(`Event service answered ${results.length} of ${requests.length} holds`, true);
      }
      return results.map((result): ItemOutcome<ReserveResult> => {
        if ('hold' in result) return { ok: true, value: result.hold };
        const { code, message, details } = result.error;
        if (result.status >= 500) return { ok: false, error: new EventServiceUnavailableError(`Event service hold failed: ${code}`, true, result.status) };
        return { ok: false, error: new EventServiceRejectedError(result.status, code, message, details) };
      });
    },
    async releaseSeats(request) {
      await call('POST', `${sessionPath(request.sessionId)}/seats/release`, {
        reservation_id: request.reservationId,
        session_seat_ids: request.sessionSeatIds,
      });
    },
    async getSessionStart(sessionId) {
      const response = await call('GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
      return new Date(decode(sessionResponseSchema, response, 'session').start_time);
    },
    async sessionOrganizer(sessionId, userId) {
      const response = await call('GET', `${sessionPath(sessionId)}/organizer?user_id=${encodeURIComponent(userId)}`);
      return decode(sessionOrganizerSchema, response, 'session organizer');
    },
    async health() {
      await call('GET', '/health');
    },
    close() {
      agent.destroy();
    },
  };
}
