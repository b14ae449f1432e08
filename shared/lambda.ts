// What every handler in functions/ shares besides Powertools' middlewares: telling a real Lambda context from the
// empty one middy passes when a handler is called without one (the local bridge and tests call them directly).
import type { Context } from 'aws-lambda';

/** The invocation's context when Lambda gave one (it can tell the time left), else undefined. */
export function lambdaContext(context: Partial<Context> | undefined): Context | undefined {
  return typeof context?.getRemainingTimeInMillis === 'function' ? (context as Context) : undefined;
}

/** A handler as the local bridge and the tests call it: the context is optional (middy passes `{}` without one). */
export type DirectHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/** Types a middy handler as callable without a context; middy's own type asks for one it does not need. */
export function callableWithoutContext<E, R>(
  h: (event: E, context: Context) => Promise<R>,
): DirectHandler<E, R> {
  return h as DirectHandler<E, R>;
}
