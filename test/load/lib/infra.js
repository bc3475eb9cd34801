'use strict';
/** Postgres and RabbitMQ access of the benchmark itself: fresh databases, direct checks, queue ownership. */
const { Client } = require('pg');
const amqp = require('amqplib');

const EVENT_SERVICE_QUEUE = 'event_service_queue';

async function withClient(url, work) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops the database (terminating its connections) so the run starts from nothing; migrations recreate it. */
async function dropDatabase(postgresUrl, name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name ${name}`);
  await withClient(`${postgresUrl}/postgres`, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

async function createDatabase(postgresUrl, name) {
  await dropDatabase(postgresUrl, name);
  await withClient(`${postgresUrl}/postgres`, (client) => client.query(`CREATE DATABASE "${name}"`));
}

/**
 * One connection for the load generator's own checks and polling (queries queue on it). One known backend
 * per database, so its CPU can be told apart from the product's. Resolves to { query, end, backendPid }.
 */
async function openConnection(url) {
  const client = new Client({ connectionString: url, application_name: 'ticketing-bench' });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  return { query: (text, values) => client.query(text, values), end: () => client.end(), backendPid: String(rows[0].pid) };
}

/**
 * Consumers and ready messages of the event service's queue (the contract's real name: the services take
 * no namespace from the environment). Undefined fields when the queue does not exist yet.
 */
async function eventQueueState(rabbitUrl) {
  const connection = await amqp.connect(rabbitUrl);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      const { consumerCount, messageCount } = await channel.checkQueue(EVENT_SERVICE_QUEUE);
      await channel.close().catch(() => undefined);
      return { exists: true, consumers: consumerCount, messages: messageCount };
    } catch {
      return { exists: false, consumers: 0, messages: 0 };
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

module.exports = { dropDatabase, createDatabase, openConnection, withClient, eventQueueState, EVENT_SERVICE_QUEUE };
