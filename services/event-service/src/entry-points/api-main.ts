import '../instrumentation';
import { runProcess } from '@ticketing/platform';
import { loadEventConfig } from '../config';
import { startEventApi } from './api';

void runProcess('event-api', () => startEventApi(), { shutdownTimeoutMs: shutdownTimeout() });

function shutdownTimeout(): number | undefined {
  try {
    return loadEventConfig().SHUTDOWN_TIMEOUT_MS + 1_000;
  } catch {
    return undefined; // startEventApi reports the bad configuration itself.
  }
}
