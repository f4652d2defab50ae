// Types for the two parts of jsonwebtoken 9.0.3 that functions/auth/libraries.ts imports: its
// `verify` module and the two error classes verify throws for the token's lifetime. They are the
// objects jsonwebtoken's index exports under the same names (test/functions/auth/libraries.test.ts).
declare module 'jsonwebtoken/verify' {
  import { verify } from 'jsonwebtoken';
  export = verify;
}
declare module 'jsonwebtoken/lib/TokenExpiredError' {
  import { TokenExpiredError } from 'jsonwebtoken';
  export = TokenExpiredError;
}
declare module 'jsonwebtoken/lib/NotBeforeError' {
  import { NotBeforeError } from 'jsonwebtoken';
  export = NotBeforeError;
}
