/**
 * The machine's price of one network round trip: two node processes ping-pong 100-byte messages over
 * loopback TCP (Nagle off, like pg, ioredis and keep-alive HTTP), and the CPU both spend is divided by the
 * round trips. Every hop of the booking path pays this on top of its protocol's own work, so it tells
 * machines with cheap syscalls and wake-ups from those (VMs) where each costs tens of microseconds.
 *
 * `node test/load/lib/tcp-round-trip.js` prints the figures; the bench runs it (as a child) in scenario 6.
 */
const net = require('node:net');
const { fork } = require('node:child_process');

const ROUND_TRIPS = 20_000;

function echoServer() {
  const server = net
    .createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (data) => socket.write(data));
    })
    .listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ cpuMicros: user + system });
    }
  });
}

/** Resolves to { roundTrips, wallMicros, clientCpuMicros, serverCpuMicros, clientSystemMicros } per round trip. */
function measureRoundTrip(roundTrips = ROUND_TRIPS) {
  return new Promise((resolve, reject) => {
    const server = fork(__filename, ['--echo-server'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    server.once('error', reject);
    const serverCpu = () =>
      new Promise((done) => {
        server.once('message', (message) => done(message.cpuMicros));
        server.send('cpu');
      });
    server.once('message', ({ port }) => {
      const socket = net.connect(port, '127.0.0.1', async () => {
        try {
          socket.setNoDelay(true);
          const message = Buffer.alloc(100, 1);
          const serverBefore = await serverCpu();
          const clientBefore = process.cpuUsage();
          const started = process.hrtime.bigint();
          for (let i = 0; i < roundTrips; i++) {
            await new Promise((answered) => {
              socket.once('data', answered);
              socket.write(message);
            });
          }
          const wallMicros = Number(process.hrtime.bigint() - started) / 1e3;
          const client = process.cpuUsage(clientBefore);
          const serverMicros = (await serverCpu()) - serverBefore;
          resolve({
            roundTrips,
            wallMicros: wallMicros / roundTrips,
            clientCpuMicros: (client.user + client.system) / roundTrips,
            clientSystemMicros: client.system / roundTrips,
            serverCpuMicros: serverMicros / roundTrips,
          });
        } catch (error) {
          reject(error);
        } finally {
          socket.destroy();
          server.kill();
        }
      });
      socket.once('error', reject);
    });
  });
}

if (require.main === module) {
  if (process.argv[2] === '--echo-server') {
    echoServer();
  } else {
    measureRoundTrip().then((result) => {
      const total = result.clientCpuMicros + result.serverCpuMicros;
      console.log(
        `TCP round trip over loopback between two node processes (${result.roundTrips} round trips): ` +
          `wall ${result.wallMicros.toFixed(1)} µs, CPU ${total.toFixed(1)} µs ` +
          `(client ${result.clientCpuMicros.toFixed(1)} µs of which kernel ${result.clientSystemMicros.toFixed(1)}, server ${result.serverCpuMicros.toFixed(1)} µs)`,
      );
    });
  }
}

module.exports = { measureRoundTrip };
