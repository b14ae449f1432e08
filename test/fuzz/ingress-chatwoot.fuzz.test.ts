// The chatwoot webhook handler under fuzz (test/fuzz/ingress-fuzz.ts).
import { fuzzIngress } from './ingress-fuzz.ts';

fuzzIngress('chatwoot');
