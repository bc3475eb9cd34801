import { AppError, withSpan } from '@ticketing/platform';
import { secondsSince } from './ports';

type ActiveSpan = Parameters<Parameters<typeof withSpan>[3]>[0];

/** How a use case's error counts: a refusal the buyer caused (4xx) by its kind; 5xx and the unexpected are 'error'. */
export function refusalOutcome(error: unknown): 'conflict' | 'rejected' | 'error' {
  if (!(error instanceof AppError) || error.status >= 500) return 'error';
  return error.status === 409 ? 'conflict' : 'rejected';
}

export interface OutcomeMeasure<T, O extends string> {
  outcomeOf(result: T): O;
  outcomeOfError(error: unknown): O;
  /** One observation of the use case's duration metric, labelled with its outcome. */
  record(outcome: O, seconds: number): void;
}

/**
 * Runs a use case inside its span and reports how it ended: the span's `ticketing.outcome` attribute and one
 * observation of the use case's duration metric, whether it returned or threw.
 */
export function instrumented<T, O extends string>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  measure: OutcomeMeasure<T, O>,
  work: (span: ActiveSpan) => Promise<T>,
): Promise<T> {
  return withSpan('booking-service', name, { attributes }, async (span) => {
    const started = process.hrtime.bigint();
    let outcome: O | 'error' = 'error';
    try {
      const result = await work(span);
      outcome = measure.outcomeOf(result);
      return result;
    } catch (error) {
      outcome = measure.outcomeOfError(error);
      throw error;
    } finally {
      span?.setAttribute('ticketing.outcome', outcome);
      measure.record(outcome as O, secondsSince(started));
    }
  });
}
