import { DOMParser } from '@xmldom/xmldom';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** docs/troubleshooting.md states the rate limit that apim/policies/product.xml sets. */

const ROOT = path.join(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('docs/troubleshooting.md', () => {
  it("gives the product's rate limit as product.xml sets it", () => {
    const policy = new DOMParser().parseFromString(read('apim/policies/product.xml'), 'text/xml');
    const limits = Array.from(policy.getElementsByTagName('rate-limit'));
    expect(limits).toHaveLength(1);
    const calls = limits[0]!.getAttribute('calls');
    const period = limits[0]!.getAttribute('renewal-period');
    const section = read('docs/troubleshooting.md').split('## 429 Too Many Requests')[1]!;
    const cause = section.slice(0, section.indexOf('\n## '));
    expect(cause.replace(/\s+/g, ' ')).toContain(`${calls} calls in any ${period} seconds`);
  });
});
