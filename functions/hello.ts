import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Caller } from './auth/caller';
import { problem } from './lib/problem';
import { secureHttp } from './auth/register';

const MAX_NAME_LENGTH = 100;

/** `GET /api/hello?name=...`: a JSON greeting for an authenticated caller. */
export function hello(
  request: HttpRequest,
  _context: InvocationContext,
  _caller: Caller,
): HttpResponseInit {
  const name = request.query.get('name')?.trim() || 'world';
  if (name.length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
    return problem(
      400,
      'invalid_name',
      `The name must be at most ${MAX_NAME_LENGTH} characters, without control characters.`,
    );
  }
  return { status: 200, jsonBody: { message: `Hello, ${name}!` } };
}

secureHttp('hello', { methods: ['GET'], route: 'hello', handler: hello });
