// Environment of the log-volume run, imported first: the deployed log level and EMF metrics on, overriding the
// local entry points' quieter defaults before any Powertools logger or metrics object is created.
import '../bin/local-env.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
