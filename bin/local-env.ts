// Environment defaults for local entry points, imported FIRST (ES modules evaluate imports in order, and the
// Powertools logger and metrics read their settings when they are created).
// EMF metrics are for CloudWatch; locally they would drown the log lines a developer wants to read.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
