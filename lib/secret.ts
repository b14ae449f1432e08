// The one Secrets Manager secret holding both platforms' credentials, created with placeholders only.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PLATFORM_KEYS } from '../shared/config.ts';

/**
 * Keys of the secret's JSON object: the same names as the local environment variables, taken from the
 * configuration schema the functions parse it with, so the two cannot drift apart.
 */
export const SECRET_KEYS = PLATFORM_KEYS;

/** Key of the random value Secrets Manager must generate; the ops command replaces the whole object. */
export const SECRET_PLACEHOLDER_KEY = 'PLACEHOLDER';

export class BridgeSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Real values never pass through CloudFormation: the template holds only empty placeholders and
    // Secrets Manager generates one throwaway value (CloudFormation cannot create a secret from a
    // template without generating something). Operators fill it in after the first deploy.
    this.secret = new Secret(this, 'Secret', {
      description:
        'Zendesk and Chatwoot credentials and webhook signing secrets for the bridge (JSON object)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify(Object.fromEntries(SECRET_KEYS.map((key) => [key, '']))),
        generateStringKey: SECRET_PLACEHOLDER_KEY,
        excludePunctuation: true,
      },
      // Credentials that took a vendor admin to issue must survive an accidental stack deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret.node.defaultChild ?? this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Holds third-party API tokens and webhook signing secrets that are issued and rotated on the Zendesk and Chatwoot side (see SECURITY.md); a Secrets Manager rotation Lambda cannot mint them.',
    });
  }
}
