import { createTestSession, eventually, newUser, request, reserve, useBookingSystem } from './support/harness';

const system = useBookingSystem({ booking: true });

describe('GET /ready', () => {
  test('when Postgres, Redis and RabbitMQ are up, then it is 200 and reports RabbitMQ as not required', async () => {
    // RabbitMQ is connected in the background after start.
    const ready = await eventually(async () => {
      const response = await request(system.booking.url, 'GET', '/ready');
      return response.body.checks?.rabbitmq?.status === 'up' ? response : undefined;
    }, 10_000);
    expect(ready?.status).toBe(200);
    expect(ready?.body.checks).toEqual({
      database: { status: 'up' },
      redis: { status: 'up' },
      rabbitmq: { status: 'up', required: false },
    });
  });
});

describe('GET /metrics', () => {
  test('when reservations were made and refused, then it exposes latencies by outcome, lock results and the outbox backlog', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    await reserve(system.booking.url, newUser(), sessionId, seatIds);
    await reserve(system.booking.url, newUser(), sessionId, seatIds);
    const metrics = await request(system.booking.url, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    const text = String(metrics.body);
    expect(text).toMatch(/booking_reservation_duration_seconds_count\{[^}]*outcome="created"[^}]*\} [1-9]/);
    expect(text).toMatch(/booking_reservation_duration_seconds_count\{[^}]*outcome="conflict"[^}]*\} [1-9]/);
    expect(text).toMatch(/booking_lock_acquisitions_total\{[^}]*result="acquired"[^}]*\} [1-9]/);
    expect(text).toMatch(/outbox_backlog_rows\{[^}]*\} \d+/);
    expect(text).toMatch(/outbox_oldest_age_seconds\{[^}]*\} [\d.e+-]+/);
    expect(text).toContain('# TYPE booking_confirm_duration_seconds histogram');
    expect(text).toContain('# TYPE messages_published_total counter');
  });
});
