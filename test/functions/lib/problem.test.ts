/** The app's problem responses (RFC 9457): a title per status, never cached, extra headers kept. */
import { HttpResponse } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { problem } from '../../../functions/lib/problem';

describe('problem', () => {
  it.each([
    [400, 'Bad Request'],
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [500, 'Internal Server Error'],
    [503, 'Service Unavailable'],
    [418, 'Error'],
  ])('titles a %i "%s"', async (status, title) => {
    const response = new HttpResponse(problem(status, 'some_code', 'Why.'));
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title,
      status,
      code: 'some_code',
      detail: 'Why.',
    });
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('adds the given headers', () => {
    const response = new HttpResponse(problem(503, 'x', 'y', { 'Retry-After': '5' }));
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});
