import net from 'node:net';

/**
 * A TCP proxy in front of a real service that a test can stall: while `stall()` is on, bytes from clients
 * are held back (the request "hangs on the wire"); while `stallResponses()` is on, the service's answers are
 * (the request was applied, its caller does not know yet). `resume()` lets everything through in order. Used
 * to reproduce a first attempt that stalls past a lease while a retry goes ahead on another replica.
 */
export class StallingProxy {
  private stalled = false;
  private responsesStalled = false;
  private readonly waiting: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<StallingProxy> {
    const holder: { proxy?: StallingProxy } = {};
    const server = net.createServer((client) => holder.proxy?.connect(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new StallingProxy(server, (server.address() as net.AddressInfo).port);
    return holder.proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  stall(): void {
    this.stalled = true;
  }

  stallResponses(): void {
    this.responsesStalled = true;
  }

  resume(): void {
    this.stalled = false;
    this.responsesStalled = false;
    for (const flush of this.waiting.splice(0)) flush();
  }

  private connect(client: net.Socket, target: { host: string; port: number }) {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (!this.stalled) upstream.write(chunk);
      else this.waiting.push(() => !upstream.destroyed && upstream.write(chunk));
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.responsesStalled) client.write(chunk);
      else this.waiting.push(() => !client.destroyed && client.write(chunk));
    });
    client.on('close', () => {
      // A client that gave up (timeout) while stalled: its held bytes still reach the service on resume(),
      // as a request already on the wire would.
      if (!this.stalled) upstream.end();
      else this.waiting.push(() => upstream.end());
    });
    upstream.on('close', () => client.destroy());
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
