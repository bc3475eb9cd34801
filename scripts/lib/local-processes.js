/**
 * Small helpers shared by the scripts that run the product's processes on this machine (`npm start`,
 * `npm run bench`).
 */
const net = require('node:net');

/** Resolves true when a TCP connection to the URL's host and port (or `defaultPort`) opens within 2 s. */
function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    socket.setTimeout(2000);
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Calls `onLine` for every complete line of a child's output stream, and for the unterminated rest at its end. */
function onLines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    lines.forEach(onLine);
  });
  stream.on('end', () => onLine(buffer));
}

module.exports = { reachable, onLines };
