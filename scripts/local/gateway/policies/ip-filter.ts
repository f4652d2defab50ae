import net from 'node:net';
import type { Element } from '@xmldom/xmldom';
import { PolicyFailure } from '../failure';
import { apimResponse } from '../messages';
import type { PolicyReader } from '../policy-reader';
import { policyElement } from './element';

/**
 * `ip-filter` (learn.microsoft.com/azure/api-management/ip-filter-policy): inbound. `action`
 * `allow` lets only the listed `<address>`es and `<address-range from to>`s through, `forbid`
 * refuses them. A refused call goes to on-error with the reasons and messages of
 * api-management-error-handling-policies.md: `CallerIpNotAllowed` ("Caller IP address {ip} is
 * not allowed. Access denied.") or `CallerIpBlocked` ("Caller IP address is blocked. Access
 * denied."), status 403. Locally the caller is the connection's address, usually 127.0.0.1.
 */

export interface IpFilterConfig {
  readonly allow: boolean;
  readonly list: net.BlockList;
}

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = net.isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

function addressOf(
  reader: PolicyReader,
  element: Element,
  value: string,
): [string, 'ipv4' | 'ipv6'] {
  const address = value.trim();
  const kind = family(address);
  if (!kind) reader.fail('invalid_value', element, `"${address}" is not an IP address.`);
  return [address, kind];
}

/** The caller's address as ip-filter compares it: IPv4-mapped IPv6 as IPv4. */
export function callerAddress(remote: string): string {
  return remote.startsWith('::ffff:') && net.isIPv4(remote.slice(7)) ? remote.slice(7) : remote;
}

export default policyElement<IpFilterConfig>({
  name: 'ip-filter',
  sections: ['inbound'],
  attributes: ['action'],
  parse(element, attributes, context) {
    const reader: PolicyReader = context.reader;
    const action = reader.required(element, attributes, 'action').trim();
    if (action !== 'allow' && action !== 'forbid') {
      reader.fail(
        'invalid_value',
        element,
        `"action" on <ip-filter> must be allow or forbid, got "${action}".`,
      );
    }
    const list = new net.BlockList();
    const children = reader.elementChildren(element, '<ip-filter>');
    for (const child of children) {
      if (child.tagName === 'address') {
        reader.attributes(child, []);
        const [address, kind] = addressOf(
          reader,
          child,
          reader.resolve(reader.text(child), child, '<address>'),
        );
        list.addAddress(address, kind);
      } else if (child.tagName === 'address-range') {
        const range = reader.attributes(child, ['from', 'to']);
        reader.noChildren(child);
        const [from, fromKind] = addressOf(reader, child, reader.required(child, range, 'from'));
        const [to, toKind] = addressOf(reader, child, reader.required(child, range, 'to'));
        if (fromKind !== toKind) {
          reader.fail('invalid_value', child, '<address-range> mixes IPv4 and IPv6.');
        }
        try {
          list.addRange(from, to, fromKind);
        } catch {
          reader.fail(
            'invalid_value',
            child,
            `<address-range from="${from}" to="${to}"> is empty.`,
          );
        }
      } else {
        reader.fail(
          'unsupported_element',
          child,
          `<${child.tagName}> inside <ip-filter> is not allowed (only <address>, <address-range>).`,
        );
      }
    }
    if (children.length === 0) {
      reader.fail(
        'invalid_value',
        element,
        '<ip-filter> needs at least one <address> or <address-range>.',
      );
    }
    return { allow: action === 'allow', list };
  },
  execute({ allow, list }, { state }) {
    const caller = callerAddress(state.request.clientAddress);
    const kind = family(caller);
    const listed = kind !== undefined && list.check(caller, kind);
    if (allow && !listed) {
      throw new PolicyFailure(
        'ip-filter',
        'CallerIpNotAllowed',
        apimResponse(403, `Caller IP address ${caller} is not allowed. Access denied.`),
      );
    }
    if (!allow && listed) {
      throw new PolicyFailure(
        'ip-filter',
        'CallerIpBlocked',
        apimResponse(403, 'Caller IP address is blocked. Access denied.'),
      );
    }
  },
});
