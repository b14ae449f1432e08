// The per-container link cache stays bounded: a long-lived container forgets its oldest links (a miss is one read).
import { describe, expect, it } from 'vitest';
import { LINK_CACHE_SIZE, LinkStore } from '../../shared/store/links.ts';

describe('LinkStore cache', () => {
  it('keeps at most LINK_CACHE_SIZE links and reads an evicted one from the table again', async () => {
    let reads = 0;
    const db = {
      send: async (cmd: { constructor: { name: string }; input: { Key?: { ticketId: string } } }) => {
        if (cmd.constructor.name === 'PutCommand') return {};
        reads++;
        const ticketId = cmd.input.Key!.ticketId;
        return { Item: { ticketId, conversationId: `c${ticketId}`, linkedAt: 1 } };
      },
    };
    const store = new LinkStore(db as never, 'links');
    for (let i = 0; i <= LINK_CACHE_SIZE; i++) {
      await store.create({ ticketId: String(i), conversationId: `c${i}`, linkedAt: 1 });
    }
    expect(reads).toBe(0);
    await store.getByTicket(String(LINK_CACHE_SIZE)); // newest: cached
    expect(reads).toBe(0);
    await store.getByTicket('0'); // oldest: evicted
    expect(reads).toBe(1);
  });
});
