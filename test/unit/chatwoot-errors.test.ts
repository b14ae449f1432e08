// Chatwoot's 422 read from its text (its messages controller rescues every exception into 422), and the bound on how
// long an answer that may pass is retried before it is dead-lettered with its reason.
import { describe, expect, it } from 'vitest';
import { classifyChatwootError } from '../../shared/chatwoot/errors.ts';
import {
  errorReason,
  isRetryable,
  MAY_PASS_RETRY_MS,
  PermanentError,
  UpstreamError,
  withinRetryBound,
} from '../../shared/errors.ts';

const POST_MESSAGE = 'post conversations/:id/messages';

describe('classifyChatwootError', () => {
  it('reads message creation’s 422 by its text: validations are permanent, the rest may pass', () => {
    const verdict = (error: string) => classifyChatwootError(422, POST_MESSAGE, { error });
    expect(verdict('Validation failed: Too many messages')).toEqual({ detail: 'flood-limit', mayPass: true });
    expect(verdict('Aws::S3::Errors::ServiceUnavailable')).toEqual({ detail: 'unexplained', mayPass: true });
    expect(verdict('canceling statement due to statement timeout')).toEqual({
      detail: 'unexplained',
      mayPass: true,
    });
    expect(verdict('Validation failed: Content is too long (maximum is 150000 characters)')).toEqual({
      detail: 'too-long',
      mayPass: false,
    });
    expect(verdict('Validation failed: Attachments exceeded maximum allowed')).toMatchObject({
      mayPass: false,
    });
  });

  it('leaves other statuses and other endpoints’ 422 (RecordInvalid: the input) as they are', () => {
    expect(classifyChatwootError(404, POST_MESSAGE, { error: 'x' })).toBeUndefined();
    expect(
      classifyChatwootError(422, 'post contacts', {
        message: 'Email has already been taken',
        attributes: ['email'],
      }),
    ).toEqual({ detail: 'taken', mayPass: false });
    expect(classifyChatwootError(422, 'post conversations', { error: 'boom' })).toEqual({
      detail: 'invalid',
      mayPass: false,
    });
  });
});

describe('the retry bound on answers that may pass', () => {
  const flood = () => new UpstreamError('chatwoot', POST_MESSAGE, 422, undefined, 'flood-limit', true);

  it('is retryable, named by its detail, while the bound lasts', () => {
    const err = withinRetryBound(flood(), 1_000, 1_000 + MAY_PASS_RETRY_MS);
    expect(isRetryable(err)).toBe(true);
    expect(errorReason(err)).toBe('chatwoot-post conversations/:id/messages-http-422-flood-limit');
  });

  it('becomes permanent with the same reason once the bound is over', () => {
    const err = withinRetryBound(flood(), 1_000, 1_001 + MAY_PASS_RETRY_MS);
    expect(err).toBeInstanceOf(PermanentError);
    expect(isRetryable(err)).toBe(false);
    expect(errorReason(err)).toBe('chatwoot-post conversations/:id/messages-http-422-flood-limit');
  });

  it('never bounds other failures (a 503 keeps the whole retry window)', () => {
    const outage = new UpstreamError('chatwoot', POST_MESSAGE, 503);
    expect(withinRetryBound(outage, 0, 10 * MAY_PASS_RETRY_MS)).toBe(outage);
  });
});
