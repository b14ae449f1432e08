// CDK app entry point (`cdk synth`/`cdk deploy`): the bridge stack, checked by the cdk-nag packs at synthesis.
import { App } from 'aws-cdk-lib';
import { createStack } from '../lib/bridge-stack.ts';
import { addNagPacks } from '../lib/nag.ts';

const app = new App();
createStack(app);
addNagPacks(app);
app.synth();
