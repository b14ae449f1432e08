// The public webhook endpoint: an HTTP API with one route (and one Lambda) per platform, throttled and access-logged.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, type HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const ZENDESK_WEBHOOK_PATH = '/webhooks/zendesk';
export const CHATWOOT_WEBHOOK_PATH = '/webhooks/chatwoot';
/** The Chatwoot dashboard app: its page, and its JSON API below it. */
const APP_PAGE_PATH = '/app';
const APP_API_PATH = '/app/api/{proxy+}';

/**
 * Stage-wide throttling. Real traffic is a few webhooks per second even for a busy help desk; the limits
 * exist to cap what a flood of forged requests can cost (each one still invokes a Lambda to check the HMAC).
 * 50 req/s steady with bursts of 100 is ~10× a busy desk's peak (a bulk update in Zendesk fires one webhook
 * per ticket) and stays well under the account's default Lambda concurrency of 1000.
 */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

export interface WebhookApiProps {
  readonly zendeskHandler: IFunction;
  readonly chatwootHandler: IFunction;
  /** The dashboard app's function (GET /app, GET and POST /app/api/…); no app routes without it. */
  readonly appHandler?: IFunction;
}

export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      // Same month as the function logs, so a request can be followed from access log to handler log.
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The default stage is created by hand because HttpApi's automatic one takes no throttle or log settings.
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Zendesk and Chatwoot webhooks for the bridge',
      createDefaultStage: false,
    });

    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // Ids, status and timings only: no headers, no bodies (they carry customer messages and signatures).
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            requestTime: '$context.requestTimeEpoch',
          }),
        ),
      },
    });

    const routes = [
      ...this.api.addRoutes({
        path: ZENDESK_WEBHOOK_PATH,
        methods: [HttpMethod.POST],
        integration: new HttpLambdaIntegration('ZendeskIntegration', props.zendeskHandler),
      }),
      ...this.api.addRoutes({
        path: CHATWOOT_WEBHOOK_PATH,
        methods: [HttpMethod.POST],
        integration: new HttpLambdaIntegration('ChatwootIntegration', props.chatwootHandler),
      }),
    ];
    if (props.appHandler) this.addAppRoutes(props.appHandler);
    for (const route of routes) {
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Zendesk and Chatwoot cannot present IAM, Cognito or JWT credentials; each webhook is authenticated by its HMAC-SHA256 signature over timestamp and raw body, verified in the Lambda before anything is enqueued.',
      });
    }
  }

  private addAppRoutes(handler: IFunction): void {
    const integration = new HttpLambdaIntegration('AppIntegration', handler);
    const routes = [
      ...this.api.addRoutes({ path: APP_PAGE_PATH, methods: [HttpMethod.GET], integration }),
      ...this.api.addRoutes({ path: APP_API_PATH, methods: [HttpMethod.GET, HttpMethod.POST], integration }),
    ];
    for (const route of routes) {
      Validations.of(route.node.defaultChild ?? route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Chatwoot embeds the dashboard app as a plain iframe and cannot present IAM, Cognito or JWT credentials. The page itself holds nothing; every /app/api request must carry the app key as a bearer token, compared in the Lambda (constant time, rate-limited per source IP) before anything is read.',
      });
    }
  }

  /** The invoke URL of the default stage (ends with '/'). */
  get url(): string {
    return this.stage.url;
  }
}
