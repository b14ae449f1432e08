import './log-env.ts';
import { runFaultLatency } from './platform-limits.ts';

const r = await runFaultLatency({ trials: 1, progress: (l) => process.stderr.write(`${l}\n`) });
process.stderr.write(`${JSON.stringify(r)}\n`);
