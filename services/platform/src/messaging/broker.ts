import { BrokerAsPromised, type BrokerConfig } from 'rascal';
import type { Logger } from 'pino';
import { context, propagation } from '@opentelemetry/api';
import { TICKETING_PUBLICATION } from './topology';
import type { TicketingEvent } from './events';

export class BrokerUnavailableError extends Error {
  constructor(message = 'RabbitMQ is unavailable') {
    super(message);
    this.name = 'BrokerUnavailableError';
  }
}

/**
 * Holds a Rascal broker and keeps trying to create it while RabbitMQ is unreachable, so a process can
 * start (and serve /ready as "down") before the broker is up. Once connected, Rascal itself recovers
 * lost connections and re-subscribes.
 */
export class BrokerConnection {
  private broker: BrokerAsPromised | undefined;
  private connecting: Promise<BrokerAsPromised> | undefined;
  /** The Rascal create() in progress, so stop() can wait for it instead of leaking its connection. */
  private attempt: Promise<BrokerAsPromised> | undefined;
  private stopped = false;
  private connected = false;
  private readonly onConnectCallbacks: Array<(broker: BrokerAsPromised) => Promise<void>> = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    private readonly retryDelayMs = 2_000,
  ) {}

  /** Runs `callback` with the broker as soon as it exists (now, if it already does). */
  onConnect(callback: (broker: BrokerAsPromised) => Promise<void>): void {
    this.onConnectCallbacks.push(callback);
    if (this.broker) void this.runConnectCallbacks(this.broker, [callback]);
  }

  /** A failing callback (e.g. a subscription that could not start) is logged; it never discards the connection. */
  private async runConnectCallbacks(broker: BrokerAsPromised, callbacks = this.onConnectCallbacks): Promise<void> {
    for (const callback of callbacks) {
      try {
        await callback(broker);
      } catch (error) {
        this.logger.error({ err: error }, 'RabbitMQ on-connect callback failed');
      }
    }
  }

  /** Starts connecting in the background; resolves once the first connection succeeded. */
  connect(): Promise<BrokerAsPromised> {
    this.connecting ??= this.connectWithRetry();
    return this.connecting;
  }

  get current(): BrokerAsPromised | undefined {
    return this.broker;
  }

  isConnected(): boolean {
    return this.broker !== undefined && this.connected;
  }

  /** For /ready: throws unless a live connection exists. */
  async check(): Promise<void> {
    if (!this.isConnected()) throw new BrokerUnavailableError();
  }

  /** Shuts the broker down; a connection attempt still in flight is awaited and shut down too. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.attempt?.catch(() => undefined);
    const broker = this.broker;
    this.broker = undefined;
    this.connected = false;
    if (broker) await broker.shutdown();
  }

  private async connectWithRetry(): Promise<BrokerAsPromised> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new BrokerUnavailableError('broker connection stopped');
      try {
        // A failed create is cleaned up inside the attempt, so a stop() awaiting it waits for that too.
        this.attempt = BrokerAsPromised.create(this.config).catch(async (error: unknown) => {
          await shutDownFailedBroker(error);
          throw error;
        });
        const broker = await this.attempt;
        this.attempt = undefined;
        if (this.stopped) {
          await broker.shutdown();
          throw new BrokerUnavailableError('broker connection stopped');
        }
        this.attachListeners(broker);
        this.broker = broker;
        this.connected = true;
        this.logger.info({ attempt }, 'Connected to RabbitMQ');
        await this.runConnectCallbacks(broker);
        return broker;
      } catch (error) {
        this.attempt = undefined;
        if (this.stopped) throw error;
        this.logger.warn({ err: error, attempt }, 'RabbitMQ not reachable yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(this.retryDelayMs * attempt, 10_000)).unref());
      }
    }
  }

  private attachListeners(broker: BrokerAsPromised) {
    broker.on('error', (error: Error) => {
      this.connected = false;
      this.logger.warn({ err: error }, 'RabbitMQ broker error; Rascal will reconnect');
    });
    broker.on('disconnect', () => {
      this.connected = false;
    });
    broker.on('connect', () => {
      this.connected = true;
      this.logger.info('Reconnected to RabbitMQ');
    });
    broker.on('blocked', () => this.logger.warn('RabbitMQ connection blocked (resource alarm)'));
  }
}

/**
 * When Rascal fails to initialise it still hands back the half-made broker (under the error's `broker`
 * symbol); unless it is shut down, its keep-alive interval holds the process open forever and every failed
 * attempt leaks another one.
 */
async function shutDownFailedBroker(error: unknown): Promise<void> {
  const key = (error as { broker?: unknown } | undefined)?.broker;
  if (typeof key !== 'symbol') return;
  const broker = (error as Record<symbol, BrokerAsPromised | undefined>)[key];
  try {
    await broker?.shutdown();
  } catch {
    // It never connected; there is nothing else to release.
  }
}

/**
 * Publishes one event and resolves when the broker confirmed it. Rejects (rather than waiting) when the
 * connection is down, the message was unroutable, or the confirm timed out, so the caller can keep the
 * message (e.g. in the outbox) and try again later.
 */
export async function publishEvent(
  connection: BrokerConnection,
  event: TicketingEvent,
  headers: Record<string, string> = {},
): Promise<void> {
  const broker = connection.current;
  if (!broker || !connection.isConnected()) throw new BrokerUnavailableError();
  const traceHeaders: Record<string, string> = {};
  propagation.inject(context.active(), traceHeaders);
  const publication = await broker.publish(TICKETING_PUBLICATION, event, {
    routingKey: event.type,
    options: {
      messageId: event.id,
      timestamp: Date.now(),
      type: event.type,
      headers: { ...traceHeaders, ...headers },
    },
  });
  await new Promise<void>((resolve, reject) => {
    let returned = false;
    publication
      .on('success', () => (returned ? reject(new Error(`Message ${event.id} was unroutable`)) : resolve()))
      .on('return', () => {
        returned = true;
      })
      .on('error', (error: Error) => reject(error));
    // 'paused' (connection lost while queued) is emitted by Rascal but missing from its type definitions.
    (publication as unknown as NodeJS.EventEmitter).on('paused', () => {
        publication.abort();
      reject(new BrokerUnavailableError('RabbitMQ connection lost while publishing'));
    });
  });
}
