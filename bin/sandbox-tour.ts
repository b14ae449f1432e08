// The sandbox round trip behind `curl -X POST …/_sandbox/round-trip`: a simulated customer opens a Zendesk
// ticket (Zendesk's simulator sends the signed webhook), the bridge syncs it to Chatwoot, a simulated agent
// replies in Chatwoot (signed webhook again), the bridge syncs that back. Returns what happened, step by step.
import type { LocalFifoQueue } from '../shared/queue/local.ts';
import type { ChatwootSimulator } from '../simulators/chatwoot.ts';
import type { ZendeskSimulator } from '../simulators/zendesk.ts';

/** The simulators the tour drives (the local bridge's sandbox). */
export interface TourSimulators {
  zendesk: ZendeskSimulator;
  chatwoot: ChatwootSimulator;
}

export interface TourStep {
  step: string;
  ok: boolean;
  detail: Record<string, unknown>;
  ms: number;
}

async function quiet(s: TourSimulators, queue: LocalFifoQueue): Promise<void> {
  // Webhooks cause queue work which causes API calls which cause echo webhooks: wait for all of it, twice.
  for (let i = 0; i < 3; i++) {
    await s.zendesk.idle();
    await s.chatwoot.idle();
    await queue.drained(15_000);
  }
}

export async function sandboxRoundTrip(
  s: TourSimulators,
  queue: LocalFifoQueue,
): Promise<{ ok: boolean; steps: TourStep[] }> {
  const started = Date.now();
  const steps: TourStep[] = [];
  const add = (step: string, ok: boolean, detail: Record<string, unknown>) =>
    steps.push({ step, ok, detail, ms: Date.now() - started });

  const n = Date.now() % 100_000;
  const customer = s.zendesk.createUser({
    name: `Maria Lopez ${n}`,
    email: `maria.${n}@customer.example`,
    role: 'end-user',
  });
  const ticket = s.zendesk.createTicket({
    requester: customer,
    subject: 'Order arrived damaged',
    body: 'Hi, my order arrived damaged. Can you help?',
    tags: ['order_issue'],
  });
  await s.zendesk.idle();
  const delivered = s.zendesk.deliveries.at(-1);
  add('zendesk: customer opened a ticket; signed webhook sent to the bridge', delivered?.status === 202, {
    ticketId: ticket.id,
    webhookStatus: delivered?.status,
  });
  await quiet(s, queue);

  const conversation = s.chatwoot
    .conversations()
    .find((c) => Number(c.custom_attributes?.zendesk_ticket_id) === ticket.id);
  const messages = conversation ? s.chatwoot.messages(conversation.id) : [];
  add('chatwoot: contact, conversation and incoming message created', messages.length === 1, {
    conversationId: conversation?.id,
    messages: messages.map((m) => ({
      id: m.id,
      type: m.message_type === 0 ? 'incoming' : 'outgoing',
      content: m.content,
    })),
  });
  if (!conversation) return { ok: false, steps };

  const reply = s.chatwoot.agentReply(conversation.id, {
    content: 'Sorry about that! A replacement ships today.',
  });
  await quiet(s, queue);
  const comments = s.zendesk.comments(ticket.id);
  const last = comments.at(-1);
  // The comment starts with a line naming the Chatwoot agent: the sandbox agent has no Zendesk account.
  const replied = !!reply.content && !!last?.body.includes(reply.content) && last.public;
  add('zendesk: agent reply became a public comment; tags untouched', replied, {
    ticketId: ticket.id,
    comments: comments.map((c) => ({ id: c.id, public: c.public, body: c.body })),
    tags: s.zendesk.ticket(ticket.id)?.tags,
  });
  add(
    'echoes ignored: nothing came back twice',
    s.chatwoot.messages(conversation.id).length === 2 && comments.length === 2,
    {
      chatwootMessages: s.chatwoot.messages(conversation.id).length,
      zendeskComments: comments.length,
      deadLetters: queue.deadLetters.length,
    },
  );
  return { ok: steps.every((st) => st.ok), steps };
}
