import '../instrumentation-consumer';
import { runProcess } from '@ticketing/platform';
import { loadEventConfig } from '../config';
import { startEventConsumer } from './consumer';

void runProcess('event-consumer', () => startEventConsumer(), { shutdownTimeoutMs: shutdownTimeout() });

function shutdownTimeout(): number | undefined {
  try {
    // Cancelling the subscription may wait for a message held for a deferred retry.
    return loadEventConfig().SHUTDOWN_TIMEOUT_MS + 5_000;
  } catch {
    return undefined; // startEventConsumer reports the bad configuration itself.
  }
}
