// X-Ray tracing for the worker and the reconciler, loaded only where it traces: Powertools Tracer (and with it the
// X-Ray SDK, ~50 ms of a cold start as deployed) is imported on the first invocation in Lambda with tracing on, and
// never outside Lambda (the local bridge, tests) nor by the ingress functions, which do not import this file (the
// SDK would double their cold start; their traces show the invocation Lambda records itself). Calls made with fetch
// — Zendesk, Chatwoot, and the SigV4 client's SQS calls — become subsegments through the tracer's undici
// instrumentation; the DynamoDB client is captured where it is built (captureAwsClient).
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj, Request } from '@middy/core';
import { SERVICE_NAME } from './observability.ts';

let tracer: Tracer | undefined;
let middleware: MiddlewareObj | undefined;

/** What Powertools Tracer itself requires to trace: a Lambda environment (not SAM local) and tracing not off. */
function tracingWanted(env: Record<string, string | undefined> = process.env): boolean {
  return (
    Boolean(env.AWS_EXECUTION_ENV) &&
    env.AWS_EXECUTION_ENV !== 'AWS_Lambda_amplify-mock' &&
    !env.AWS_SAM_LOCAL &&
    env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false'
  );
}

async function load(): Promise<MiddlewareObj> {
  if (!middleware) {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    tracer = new Tracer({ serviceName: SERVICE_NAME });
    // The response is a batch report or a reconcile count: nothing a trace reader needs beside the annotations.
    middleware = captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj;
  }
  return middleware;
}

/**
 * Powertools' `captureLambdaHandler`, with the tracer imported on the first invocation that traces: the handler
 * runs in a `## <handler>` subsegment annotated with the cold start and service, errors recorded on it.
 */
export function captureLambdaHandlerLazily(): MiddlewareObj {
  return {
    before: async (request: Request) => {
      if (tracingWanted()) await (await load()).before?.(request);
    },
    after: async (request: Request) => {
      await middleware?.after?.(request);
    },
    onError: async (request: Request) => {
      await middleware?.onError?.(request);
    },
  };
}

/** Annotates the handler's subsegment (to find traces by in the X-Ray console); a no-op when not tracing. */
export function annotate(annotations: Record<string, string | number>): void {
  if (!tracer?.isTracingEnabled()) return;
  for (const [k, v] of Object.entries(annotations)) tracer.putAnnotation(k, v);
}

/** Makes each request of an AWS SDK v3 client an X-Ray subsegment once the tracer is loaded; else the client. */
export function captureAwsClient<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
