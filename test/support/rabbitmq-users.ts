/**
 * RabbitMQ users and virtual hosts for tests of per-process permissions. With TEST_RABBITMQ_MANAGEMENT_URL
 * (e.g. http://ticketing:ticketing@127.0.0.1:15672, CI's broker has the management plugin) through the
 * HTTP API, otherwise through `rabbitmqctl` on this machine (the local broker has no management plugin).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrokerPermissions } from '@ticketing/platform';

const run = promisify(execFile);
const MANAGEMENT_URL = process.env.TEST_RABBITMQ_MANAGEMENT_URL;

async function management(method: string, resource: string, body?: unknown): Promise<void> {
  const base = new URL(MANAGEMENT_URL!);
  const auth = Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64');
  base.username = '';
  base.password = '';
  const response = await fetch(new URL(`/api/${resource}`, base), {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
    throw new Error(`RabbitMQ management ${method} ${resource}: ${response.status} ${await response.text()}`);
  }
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', ['--quiet', ...args], { timeout: 60_000 });
}

/** Creates (or resets) a user with exactly these permissions in `vhost`. */
export async function createBrokerUser(name: string, password: string, permissions: BrokerPermissions, vhost = '/'): Promise<void> {
  if (MANAGEMENT_URL) {
    await management('PUT', `users/${encodeURIComponent(name)}`, { password, tags: '' });
    await management('PUT', `permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`, permissions);
    return;
  }
  await rabbitmqctl('delete_user', name).catch(() => undefined);
  await rabbitmqctl('add_user', name, password);
  // `--` so a regex starting with ^ or - is never read as an option.
  await rabbitmqctl('set_permissions', '-p', vhost, name, '--', permissions.configure, permissions.write, permissions.read);
}

/** Creates a virtual host that `user` may use fully: a test's own exchanges and queues, even under their real names. */
export async function createBrokerVhost(vhost: string, user: string): Promise<void> {
  if (MANAGEMENT_URL) {
    await management('PUT', `vhosts/${encodeURIComponent(vhost)}`);
    await management('PUT', `permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, { configure: '.*', write: '.*', read: '.*' });
    return;
  }
  await rabbitmqctl('add_vhost', vhost).catch(() => undefined);
  await rabbitmqctl('set_permissions', '-p', vhost, user, '--', '.*', '.*', '.*');
}

export async function deleteBrokerVhost(vhost: string): Promise<void> {
  if (MANAGEMENT_URL) return management('DELETE', `vhosts/${encodeURIComponent(vhost)}`);
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
}

export async function deleteBrokerUser(name: string): Promise<void> {
  if (MANAGEMENT_URL) return management('DELETE', `users/${encodeURIComponent(name)}`);
  await rabbitmqctl('delete_user', name).catch(() => undefined);
}

/** The test broker's URL with another user's credentials. */
export function brokerUrlAs(baseUrl: string, user: string, password: string): string {
  const url = new URL(baseUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}
