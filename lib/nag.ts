// Registers the cdk-nag rule packs (AWS Solutions and Serverless) as CDK validation plugins on an app.
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** The packs the bridge must pass with zero unacknowledged findings. Returned so tests can run them directly. */
export function addNagPacks(app: App): [AwsSolutionsChecks, ServerlessChecks] {
  // writeSuppressionsToCloudFormation keeps each acknowledgment and its reason in the template's
  // Metadata (cdk_nag.rules_to_suppress), an audit trail reviewers can read without the CDK code.
  const packs: [AwsSolutionsChecks, ServerlessChecks] = [
    new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
    new ServerlessChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  ];
  Validations.of(app).addPlugins(...packs);
  return packs;
}
