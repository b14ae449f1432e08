// Import boundaries, checked by `npm run check` (dependency-cruiser, offline): no cycles, type-only imports
// included; the platform folders never import each other; nothing below the sync flows imports them.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes load order matter and hides which module owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platforms-apart',
      comment: 'shared/zendesk and shared/chatwoot never import each other; what both need lives elsewhere.',
      severity: 'error',
      from: { path: '^shared/(zendesk|chatwoot)/' },
      to: { path: '^shared/(zendesk|chatwoot)/', pathNot: '^shared/$1/' },
    },
    {
      name: 'sync-on-top',
      comment:
        'The sync flows use the platforms, the queue, the stores, the events and HTTP; none of those use the flows.',
      severity: 'error',
      from: { path: '^shared/(zendesk|chatwoot|queue|http|store|events|aws)/' },
      to: { path: '^shared/sync/' },
    },
    {
      name: 'events-neutral',
      comment: 'The platform-neutral event schema and loop guard import neither platform.',
      severity: 'error',
      from: { path: '^shared/events/' },
      to: { path: '^shared/(zendesk|chatwoot)/' },
    },
  ],
  options: {
    // Type-only imports count: a cycle through types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|\\.local)/' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
