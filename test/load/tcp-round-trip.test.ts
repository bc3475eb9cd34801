/* eslint-disable @typescript-eslint/no-require-imports */
/** The bench's machine reference: CPU per loopback TCP round trip between two node processes. */
const { measureRoundTrip } = require('./lib/tcp-round-trip.js');

test('measures wall time and both processes’ CPU per round trip, and leaves no process behind', async () => {
  const result = await measureRoundTrip(300);
  expect(result.roundTrips).toBe(300);
  for (const key of ['wallMicros', 'clientCpuMicros', 'serverCpuMicros'] as const) {
    expect(Number.isFinite(result[key])).toBe(true);
    expect(result[key]).toBeGreaterThan(0);
  }
  expect(result.clientSystemMicros).toBeLessThanOrEqual(result.clientCpuMicros);
});
