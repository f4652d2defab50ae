/**
 * functions/auth/libraries.ts imports jsonwebtoken's `verify` module and two of its error classes
 * by path, so that `sign` and its dependencies are not loaded. These are the objects the package's
 * own index exports: a version of jsonwebtoken that moved or changed them fails here.
 */
import jsonwebtoken from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { jwt } from '../../../functions/auth/libraries';

describe('the parts of jsonwebtoken the app imports', () => {
  it.each(['verify', 'NotBeforeError', 'TokenExpiredError'] as const)(
    '%s is the one jsonwebtoken exports',
    (name) => {
      expect(jwt[name]).toBe(jsonwebtoken[name]);
    },
  );
});
