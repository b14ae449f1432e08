// Environment for local entry points, imported FIRST (ES modules evaluate imports in order, and the Powertools
// logger and metrics read their settings when they are created): the optional .env file, then defaults.
import { existsSync } from 'node:fs';

// Variables already set in the environment win over the file (process.loadEnvFile does not overwrite).
if (existsSync('.env')) process.loadEnvFile('.env');
// EMF metrics are for CloudWatch; locally they would drown the log lines a developer wants to read.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
