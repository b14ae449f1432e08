// Attachments between the platforms: fetched one at a time within the size limit, and the files that could not
// be copied named in a private note in the Chatwoot conversation, where the agents will see it.
import type { OutgoingFile } from '../chatwoot/client.ts';
import { MARKER_KEY } from '../events/loop-guard.ts';
import type { Download } from '../http/download.ts';
import type { SyncDeps } from './deps.ts';

/** A file to copy, by reference. */
export interface FileRef {
  fileName: string;
  url: string;
  contentType?: string | undefined;
  /** Size the source declared, if it did: a file known to be too large is not fetched at all. */
  size?: number | undefined;
}

export interface Missing {
  file: FileRef;
  reason: 'too-large' | 'unavailable';
}

/** Fetches one file within the limit; never holds more than limit + 1 bytes of it. */
export async function fetchFile(
  file: FileRef,
  limitBytes: number,
  from: (url: string, limit: number) => Promise<Download>,
): Promise<OutgoingFile | Missing> {
  if (file.size !== undefined && file.size > limitBytes) return { file, reason: 'too-large' };
  const got = await from(file.url, limitBytes);
  if (got.kind !== 'ok') return { file, reason: got.kind };
  return {
    fileName: file.fileName,
    // The source's declared type wins over a storage server's generic one.
    contentType: file.contentType ?? got.contentType.split(';')[0]?.trim() ?? 'application/octet-stream',
    data: got.data,
  };
}

export const isMissing = (f: OutgoingFile | Missing): f is Missing => 'reason' in f;

const megabytes = (bytes: number): string => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;

/** The note's text: which files, why, and where the original is. */
export function missingFilesNote(missing: Missing[], limitBytes: number, where: string): string {
  const lines = missing.map(({ file, reason }) =>
    reason === 'too-large'
      ? `- ${file.fileName}: larger than the ${megabytes(limitBytes)} limit`
      : `- ${file.fileName}: could not be downloaded`,
  );
  return [`⚠️ Not every attachment could be copied (${where}):`, ...lines].join('\n');
}

/** Posts a private note by the bridge in the conversation; marked like every bridge write, so never echoed. */
export async function postBridgeNote(
  conversationId: string,
  content: string,
  marker: string,
  deps: SyncDeps,
): Promise<string> {
  const note = await deps.chatwoot.createMessage(conversationId, {
    content,
    message_type: 'outgoing',
    private: true,
    source_id: `zendesk:note:${marker}`,
    content_attributes: { [MARKER_KEY]: { note: marker } },
  });
  return String(note.id);
}

/**
 * Runs a secondary write (a note about files that could not be copied) after the event's main write has
 * landed. It must not fail the event: a retry would repeat the main write, and the note is only informative.
 */
export async function afterMainWrite<T>(
  write: () => Promise<T>,
  deps: SyncDeps,
  ids: Record<string, string>,
): Promise<T | undefined> {
  try {
    return await write();
  } catch (err) {
    deps.logger.warn('note about uncopied files failed', {
      ...ids,
      error: err instanceof Error ? err.name : 'unknown',
    });
    return undefined;
  }
}

/** The name a file had at its source URL (`?name=` on Zendesk, the last path segment elsewhere). */
export function fileNameFromUrl(url: string, fallback: string): string {
  try {
    const u = new URL(url);
    const name = u.searchParams.get('name') ?? decodeURIComponent(u.pathname.split('/').at(-1) ?? '');
    return name.trim() || fallback;
  } catch {
    return fallback;
  }
}
