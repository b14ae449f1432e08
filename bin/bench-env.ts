// Environment for the benchmark, imported first: no EMF output, and warnings only (per-event INFO lines
// would measure the terminal, not the bridge).
import './local-env.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
