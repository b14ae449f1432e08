// The DynamoDB document client: one per container, pointed at DYNAMODB_ENDPOINT when set (local/CI).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function createDynamo(
  endpoint?: string,
  onRequest?: (operation: string, input: unknown) => void,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    endpoint
      ? {
          endpoint,
          // Local APIs (dynalite, DynamoDB Local) accept any credentials; fixed ones keep them off the host's.
          region: process.env.AWS_REGION ?? 'local',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 3,
        }
      : { maxAttempts: 3 },
  );
  if (onRequest) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        // The document client's input (plain values, not yet marshalled). A counting hook never fails a request.
        try {
          onRequest(String(context.commandName ?? 'unknown'), (args as { input?: unknown }).input);
        } catch {}
        return next(args);
      },
      { step: 'initialize', name: 'countRequests' },
    );
  }
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}
