// What a support team does in the simulators, for integration tests over a harness: customers open tickets and
// comment, agents reply; plus the reads a test asserts on (a ticket's conversation, its texts in order).
import type { Harness } from './bridge.ts';

export function scenario(h: Harness) {
  let customers = 0;
  const newCustomer = () => {
    customers++;
    const tag = `${Date.now().toString(36)}-${customers}`;
    return h.zendesk.createUser({ name: `Customer ${tag}`, email: `c-${tag}@example.com`, role: 'end-user' });
  };
  const conversationOf = (ticketId: number) =>
    h.chatwoot.conversations().filter((c) => Number(c.custom_attributes?.zendesk_ticket_id) === ticketId);
  /** A customer opens a ticket and the bridge creates its conversation. */
  const openTicket = async (body = 'My order arrived damaged.') => {
    const customer = newCustomer();
    const ticket = h.zendesk.createTicket({ requester: customer, subject: 'Order', body });
    await h.settle();
    const [conversation] = conversationOf(ticket.id);
    if (!conversation) throw new Error(`no conversation was created for ticket ${ticket.id}`);
    return { customer, ticket, conversation };
  };
  /** What the agent sees in Chatwoot, oldest first. */
  const chatTexts = (conversationId: number) => h.chatwoot.messages(conversationId).map((m) => m.content);
  /** What the customer sees on the Zendesk ticket, oldest first. */
  const ticketTexts = (ticketId: number) => h.zendesk.comments(ticketId).map((c) => c.body);
  /** What the bridge posted to Chatwoot (customer comments), oldest first. */
  const fromZendesk = (conversationId: number) =>
    h.chatwoot
      .messages(conversationId)
      .filter((m) => m.message_type === 0)
      .map((m) => m.content);
  /** What the bridge posted to Zendesk (agent replies and notes), oldest first. */
  const fromChatwoot = (ticketId: number) =>
    h.zendesk
      .comments(ticketId)
      .filter((c) => c.author_id === h.zendesk.bridgeUser.id)
      .map((c) => c.body);
  return { newCustomer, conversationOf, openTicket, chatTexts, ticketTexts, fromZendesk, fromChatwoot };
}
