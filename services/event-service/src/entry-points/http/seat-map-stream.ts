import { defineRoute, type AnyRoute } from '@ticketing/platform';
import type { Context } from 'koa';
import { z } from 'zod';
import type { LiveSeatMap, StreamSink } from '../../domain/live-seat-map';
import { idParams } from '../../schemas/common';

const streamHeaders = z.object({ 'last-event-id': z.string().max(40).optional() });

/** An SSE response as the live map's sink: headers go out when the stream starts, nothing is buffered by Koa. */
function openEventStream(ctx: Context): StreamSink | undefined {
  const { req, res } = ctx;
  if (req.socket.destroyed || res.destroyed) return undefined;
  ctx.respond = false;
  ctx.status = 200;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx (ingress) would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  return {
    write: (frame) => {
      if (!res.writableEnded && !res.destroyed) res.write(frame);
    },
    buffered: () => res.writableLength,
    onDrain: (listener) => res.on('drain', listener),
    onClose: (listener) => res.once('close', listener),
    end: () => res.end(),
  };
}

export const seatMapStreamRoutes = (live: LiveSeatMap): AnyRoute[] => [
  defineRoute({
    method: 'get',
    path: '/sessions/:id/seat-map/stream',
    operationId: 'streamSeatMap',
    summary: 'The seat map, live (Server-Sent Events)',
    description:
      'A `snapshot` event (the seat-map body plus `version`), then a `seats` event per write: ' +
      '`{version, seats: [{session_seat_id, status, reserved_until, version}]}`, whichever replica or consumer made ' +
      'it. Every event has `id: <version>`; reconnect with `Last-Event-ID` to get only what was missed (a fresh ' +
      'snapshot when the id is older than the retained changes). A comment line every ' +
      'SEAT_MAP_STREAM_HEARTBEAT_SECONDS; a client that does not read is disconnected. 503 when this server has ' +
      'SEAT_MAP_STREAM_MAX_SUBSCRIBERS subscribers or Redis is unreachable: poll `/seat-map` instead.',
    tags: ['sessions'],
    params: idParams,
    headers: streamHeaders,
    responses: {
      200: { description: 'text/event-stream', contentType: 'text/event-stream' },
      404: { description: 'Unknown session' },
      503: { description: 'STREAM_FULL or STREAM_UNAVAILABLE: poll the seat map' },
    },
    handler: async ({ params, headers }, ctx) => {
      await live.subscribe(params.id, headers['last-event-id'], () => openEventStream(ctx));
      return undefined;
    },
  }),
];
