import type { BrokerAsPromised } from 'rascal';
import type { Logger } from 'pino';
import { withTimeout } from '../timeout';
import type { BrokerConnection } from './broker';

/** The callback-style amqplib connection and channel Rascal's `broker.connect()` hands back. */
interface CallbackChannel {
  checkQueue(queue: string, callback: (error: Error | null, ok: { messageCount: number }) => void): void;
  close(callback?: (error?: Error) => void): void;
  on(event: 'error' | 'close', listener: (error?: Error) => void): void;
}
interface CallbackConnection {
  createChannel(callback: (error: Error | null, channel: CallbackChannel) => void): void;
  close(callback?: (error?: Error) => void): void;
  on(event: 'error' | 'close', listener: (error?: Error) => void): void;
}

export interface QueueDepthProbe {
  /** Messages waiting in each queue (by its contract name), or undefined when the broker cannot be asked. */
  depths(): Promise<Record<string, number> | undefined>;
  close(): Promise<void>;
}

/**
 * Reads queue depths (a passive queue declare) for /metrics, on a connection of its own that is opened at
 * the first scrape and reused; a failure drops it and the next scrape opens a new one. Asks nothing while
 * the consumer's own connection is down, and never holds a scrape longer than `timeoutMs`.
 */
export function queueDepthProbe(connection: BrokerConnection, queues: string[], logger: Logger, timeoutMs = 1_000): QueueDepthProbe {
  let open: Promise<{ amqp: CallbackConnection; channel: CallbackChannel }> | undefined;
  let closed = false;

  const closeQuietly = (amqp: CallbackConnection) =>
    new Promise<void>((resolve) => {
      try {
        amqp.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });

  const drop = () => {
    const current = open;
    open = undefined;
    void current?.then(({ amqp }) => closeQuietly(amqp)).catch(() => undefined);
  };

  const connect = async (broker: BrokerAsPromised) => {
    const amqp = (await broker.connect('/')) as unknown as CallbackConnection;
    amqp.on('error', (error) => logger.debug({ err: error }, 'Queue depth connection error'));
    amqp.on('close', () => drop());
    const channel = await new Promise<CallbackChannel>((resolve, reject) =>
      amqp.createChannel((error, created) => (error ? reject(error) : resolve(created))),
    ).catch(async (error: unknown) => {
      await closeQuietly(amqp);
      throw error;
    });
    // A passive declare of a missing queue closes the channel: drop it and start over next time.
    channel.on('error', (error) => logger.debug({ err: error }, 'Queue depth channel error'));
    channel.on('close', () => drop());
    return { amqp, channel };
  };

  const qualified = (broker: BrokerAsPromised, queue: string): string => {
    const vhosts = (broker.config as unknown as { vhosts: Record<string, { queues: Record<string, { fullyQualifiedName?: string }> }> })
      .vhosts;
    return vhosts['/']?.queues[queue]?.fullyQualifiedName ?? queue;
  };

  return {
    async depths() {
      const broker = connection.current;
      if (closed || !broker || !connection.isConnected()) return undefined;
      try {
        open ??= connect(broker);
        const { channel } = await withTimeout(open, timeoutMs);
        const counts = await withTimeout(
          Promise.all(
            queues.map(
              (queue) =>
                new Promise<number>((resolve, reject) =>
                  channel.checkQueue(qualified(broker, queue), (error, ok) => (error ? reject(error) : resolve(ok.messageCount))),
                ),
            ),
          ),
          timeoutMs,
        );
        return Object.fromEntries(queues.map((queue, index) => [queue, counts[index]]));
      } catch (error) {
        logger.warn({ err: error }, 'Could not read the queue depths');
        drop();
        return undefined;
      }
    },
    async close() {
      closed = true;
      const current = open;
      open = undefined;
      const opened = await current?.catch(() => undefined);
      if (opened) await closeQuietly(opened.amqp);
    },
  };
}
