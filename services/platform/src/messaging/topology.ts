import { withDefaultConfig, type BrokerConfig } from 'rascal';
import { ROUTING_KEYS } from './events';

export const TICKETING_EXCHANGE = 'ticketing_events';
export const DEAD_LETTER_EXCHANGE = 'ticketing_events.dlx';
export const EVENT_SERVICE_QUEUE = 'event_service_queue';
export const EVENT_SERVICE_DEAD_LETTER_QUEUE = 'event_service_queue.dead';
export const TICKETING_PUBLICATION = 'ticketing_event';
export const EVENT_SERVICE_SUBSCRIPTION = 'event_service';

export interface TopologyOptions {
  url: string;
  /** Messages the consumer may hold unacknowledged at once. */
  prefetch?: number;
  /** Failed handling attempts (republished with a delay) before a message is dead-lettered. */
  maxAttempts?: number;
  /** Broker-side redeliveries (e.g. consumer crashed mid-message) before a message is dead-lettered. */
  maxRedeliveries?: number;
  /** Milliseconds to wait for a publisher confirm. */
  publishTimeoutMs?: number;
  /**
   * Prefix for every exchange and queue name (Rascal's vhost namespace). Production leaves it unset so the
   * names are exactly the contract's; tests set a unique one so parallel runs cannot see each other's messages.
   */
  namespace?: string;
  /**
   * true (default, local development): declare the exchanges, queues and bindings on connect, which needs the
   * `configure` permission. false (least privilege, the chart): the broker's definitions declare them, and the
   * process only checks that its exchanges and queues exist (passive declares need no permission) and binds
   * nothing, so its user needs no `configure` permission at all (docs/security.md, "Broker least privilege").
   */
  declareTopology?: boolean;
}

/**
 * The whole RabbitMQ topology of the contract, declared by whichever process connects first (or, with
 * `declareTopology: false`, checked to exist):
 * durable topic exchange, the event service's durable queue bound to the four routing keys and
 * dead-lettering to `event_service_queue.dead`, a persistent confirmed publication and the subscription.
 */
export function brokerConfig(options: TopologyOptions): BrokerConfig {
  const bindings: Record<string, unknown> = {};
  for (const key of ROUTING_KEYS) {
    bindings[`${EVENT_SERVICE_QUEUE}:${key}`] = {
      source: TICKETING_EXCHANGE,
      destination: EVENT_SERVICE_QUEUE,
      destinationType: 'queue',
      bindingKey: key,
    };
  }
  bindings[`${EVENT_SERVICE_DEAD_LETTER_QUEUE}:all`] = {
    source: DEAD_LETTER_EXCHANGE,
    destination: EVENT_SERVICE_DEAD_LETTER_QUEUE,
    destinationType: 'queue',
    bindingKey: '#',
  };
  const declare = options.declareTopology ?? true;
  /** Declared (asserted) or only checked (passive); the options matter only when declaring. */
  const declared = <T extends object>(definition: T) => (declare ? { ...definition, assert: true, check: false } : { assert: false, check: true });
  return withDefaultConfig({
    redeliveries: { counters: { inMemory: { type: 'inMemory', size: 10_000 } } },
    vhosts: {
      '/': {
        ...(options.namespace ? { namespace: options.namespace } : {}),
        connection: {
          url: options.url,
          retry: { min: 500, max: 10_000, factor: 2, strategy: 'exponential' },
        },
        exchanges: {
          [TICKETING_EXCHANGE]: declared({ type: 'topic', options: { durable: true } }),
          [DEAD_LETTER_EXCHANGE]: declared({ type: 'topic', options: { durable: true } }),
        },
        queues: {
          [EVENT_SERVICE_QUEUE]: declared({
            options: { durable: true, arguments: { 'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE } },
          }),
          [EVENT_SERVICE_DEAD_LETTER_QUEUE]: declared({ options: { durable: true } }),
        },
        // Binding needs write on the queue and read on the exchange; the definitions bind when nothing declares.
        bindings: declare ? bindings : {},
        publications: {
          [TICKETING_PUBLICATION]: {
            exchange: TICKETING_EXCHANGE,
            confirm: true,
            timeout: options.publishTimeoutMs ?? 5_000,
            options: { persistent: true, contentType: 'application/json', mandatory: true },
          },
        },
        subscriptions: {
          [EVENT_SERVICE_SUBSCRIPTION]: {
            queue: EVENT_SERVICE_QUEUE,
            prefetch: options.prefetch ?? 32,
            redeliveries: { limit: options.maxRedeliveries ?? 5, counter: 'inMemory' },
            contentType: 'application/json',
          },
        },
      },
    },
  } as BrokerConfig);
}

/** RabbitMQ permission regexes of one user in one vhost (configure, write, read). */
export interface BrokerPermissions {
  configure: string;
  write: string;
  read: string;
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Least privilege per process (the chart's per-service users; docs/security.md "Broker least privilege"). No
 * `configure` for either: the broker's definitions declare the topology. The booking API only publishes to the
 * exchange. The consumer only reads its queues, and writes to the default exchange (`amq.default`) because a
 * failed message is republished to its queue after a delay (Rascal's `republish` recovery).
 * `namespace` prefixes the names as Rascal does (tests); production leaves it unset.
 */
export function leastPrivilegePermissions(namespace?: string): { booking: BrokerPermissions; eventConsumer: BrokerPermissions } {
  const name = (resource: string) => escapeRegex(namespace ? `${namespace}:${resource}` : resource);
  return {
    booking: { configure: '^$', write: `^${name(TICKETING_EXCHANGE)}$`, read: '^$' },
    eventConsumer: {
      configure: '^$',
      write: '^amq\\.default$',
      read: `^(${name(EVENT_SERVICE_QUEUE)}|${name(EVENT_SERVICE_DEAD_LETTER_QUEUE)})$`,
    },
  };
}

export const maxHandlingAttempts = (options: TopologyOptions) => options.maxAttempts ?? 5;
