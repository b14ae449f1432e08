// CDK app entry point (`cdk synth`/`cdk deploy`): the bridge stack, checked by the cdk-nag packs at synthesis.
import { App } from 'aws-cdk-lib';
import { createStack } from '../lib/bridge-stack.ts';
import { addNagPacks } from '../lib/nag.ts';
import { readSettings, settingsWarnings } from '../lib/settings.ts';

// The CDK CLI hands the app cdk.json's context: the deployment settings live there (README → Deploy).
const app = new App();
createStack(app);
for (const warning of settingsWarnings(readSettings(app.node))) console.warn(`warning: ${warning}`);
addNagPacks(app);
app.synth();
