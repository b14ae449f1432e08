// Placeholder entry point, replaced by the real handler in the next commits.
export const handler = async (): Promise<void> => {};
