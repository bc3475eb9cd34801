import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { requestContext } from './context';

/**
 * OpenTelemetry's context manager on the request context's AsyncLocalStorage (context.ts) instead of one of
 * its own. The SDK's default manager is a second AsyncLocalStorage, and on Node 20 each one adds work to
 * every promise and callback of the process, traced or not: that, more than the spans, is what made a 10 %
 * sample cost almost as much as 100 %. `with` keeps the request id; `requestContext.run` callers keep the
 * trace context through `runWithRequestId`.
 */
export class RequestStorageContextManager implements ContextManager {
  active(): Context {
    return requestContext.getStore()?.trace ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const work = thisArg === undefined ? fn : (fn.bind(thisArg) as F);
    return requestContext.run({ ...requestContext.getStore(), trace: context }, work, ...args);
  }

  bind<T>(context: Context, target: T): T {
    // Functions only: nothing of ours binds event emitters (the SDK's default manager patches their listeners).
    if (typeof target !== 'function') return target;
    const run = (self: unknown, args: unknown[]) => this.with(context, () => (target as (...a: unknown[]) => unknown).apply(self, args));
    return function bound(this: unknown, ...args: unknown[]) {
      return run(this, args);
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    return this;
  }
}
