import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const APIM_DIR = path.join(ROOT, 'apim');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

/** A raw HTTP request (node:http, so that hop-by-hop headers can be sent as they are). */
export function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: (): unknown => JSON.parse(text) as unknown,
          });
        });
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface EchoBackend {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

/**
 * A loopback backend that records every request and answers 200 with a JSON echo of it, plus
 * headers a real backend leaks (X-Powered-By, Request-Context). `/api/slow` never answers.
 */
export async function startEchoBackend(): Promise<EchoBackend> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      if (req.url?.startsWith('/api/slow')) return; // never answers
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'X-Powered-By': 'Express',
        'X-AspNet-Version': '4.0.30319',
        'Request-Context': 'appId=cid-v1:00000000-0000-0000-0000-000000000000',
        'X-Backend-Kept': 'yes',
      });
      res.end(JSON.stringify({ method: recorded.method, url: recorded.url, body: recorded.body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const FAKE_TOKEN = 'eyJ0eXAiOiJKV1QifQ.fake-managed-identity-token.signature';

/** A credential that records the scopes asked for; `fail` makes it throw like Entra does. */
export class RecordingCredential implements TokenCredential {
  readonly scopes: string[] = [];
  fail: Error | undefined;

  getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve({ token: FAKE_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 });
  }
}

/** A copy of apim/ in a temp folder, with `edit` applied to each file's text (file name relative to apim/). */
export function copyApim(
  edit: (file: string, text: string) => string = (_file, text) => text,
): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'apim-'));
  const copy = (relative: string): void => {
    const from = path.join(APIM_DIR, relative);
    const to = path.join(target, relative);
    if (fs.statSync(from).isDirectory()) {
      fs.mkdirSync(to, { recursive: true });
      for (const name of fs.readdirSync(from)) copy(path.join(relative, name));
    } else {
      const text = fs.readFileSync(from, 'utf8');
      const edited = edit(relative.split(path.sep).join('/'), text);
      fs.writeFileSync(to, edited);
    }
  };
  copy('.');
  return target;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
