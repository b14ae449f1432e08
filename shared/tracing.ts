// X-Ray tracing for the worker and the reconciler (never the ingress: the X-Ray SDK would double its cold start).
// Off outside Lambda (the tracer checks AWS_EXECUTION_ENV). Calls made with fetch — Zendesk, Chatwoot, and the SigV4
// client's SQS calls — become subsegments through the tracer's undici instrumentation; the DynamoDB client is
// captured explicitly where it is built.
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './observability.ts';

export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** Runs `fn` in a subsegment of the function's segment, with annotations to find it by in the X-Ray console. */
export async function traced<T>(
  name: string,
  annotations: Record<string, string | number>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = tracer.getSegment();
  if (!tracer.isTracingEnabled() || !parent) return fn();
  const sub = parent.addNewSubsegment(name);
  tracer.setSegment(sub);
  for (const [k, v] of Object.entries(annotations)) tracer.putAnnotation(k, v);
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Error) sub.addError(err);
    throw err;
  } finally {
    sub.close();
    tracer.setSegment(parent);
  }
}
