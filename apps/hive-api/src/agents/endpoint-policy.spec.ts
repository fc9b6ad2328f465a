import { BadRequestException } from '@nestjs/common';
import { loadConfig } from '@hive/config';
import { EndpointPolicy } from './endpoint-policy.js';

/** The policy of AGENT_ENDPOINT_ALLOWLIST=`allowlist`, read the way Hive reads it at start-up. */
const policy = (allowlist: string) => new EndpointPolicy(loadConfig({ AGENT_ENDPOINT_ALLOWLIST: allowlist }));

/** Whether `check` lets `endpoint` through; a refusal other than a 400 fails the test. */
function allows(endpoints: EndpointPolicy, endpoint: string): boolean {
  try {
    endpoints.check(endpoint);
    return true;
  } catch (error) {
    if (error instanceof BadRequestException) return false;
    throw error;
  }
}

describe('EndpointPolicy', () => {
  it('allows every endpoint when the allowlist is empty', () => {
    const open = policy('');
    for (const endpoint of ['http://localhost:11434', 'http://169.254.169.254', 'https://[::1]:8443', 'http://a.b']) {
      expect(allows(open, endpoint)).toBe(true);
    }
  });

  it('allows a listed host name, exactly', () => {
    const endpoints = policy('ollama.internal');
    expect(allows(endpoints, 'http://ollama.internal:11434')).toBe(true);
    expect(allows(endpoints, 'https://ollama.internal/')).toBe(true);
    expect(allows(endpoints, 'http://gpu.ollama.internal:11434')).toBe(false);
    expect(allows(endpoints, 'http://ollama.internal.evil.com')).toBe(false);
    expect(allows(endpoints, 'http://ollama.internal@evil.com')).toBe(false);
    expect(allows(endpoints, 'http://localhost:11434')).toBe(false);
  });

  it('allows every subdomain of a *.domain pattern, but not the domain itself or a look-alike', () => {
    const endpoints = policy('*.gpu.example.com');
    expect(allows(endpoints, 'http://a.gpu.example.com:11434')).toBe(true);
    expect(allows(endpoints, 'http://b.a.gpu.example.com')).toBe(true);
    expect(allows(endpoints, 'http://gpu.example.com')).toBe(false);
    expect(allows(endpoints, 'http://evilgpu.example.com')).toBe(false);
    expect(allows(endpoints, 'http://a.gpu.example.com.evil.com')).toBe(false);
  });

  it('compares host names regardless of case', () => {
    const endpoints = policy('Ollama.Internal,*.GPU.example.com');
    expect(allows(endpoints, 'http://OLLAMA.internal:11434')).toBe(true);
    expect(allows(endpoints, 'http://A.gpu.EXAMPLE.com')).toBe(true);
  });

  it('allows IPv4 addresses listed exactly or inside a CIDR block', () => {
    const endpoints = policy('10.0.0.5,192.168.0.0/16');
    expect(allows(endpoints, 'http://10.0.0.5:11434')).toBe(true);
    expect(allows(endpoints, 'http://10.0.0.6:11434')).toBe(false);
    expect(allows(endpoints, 'http://192.168.44.1')).toBe(true);
    expect(allows(endpoints, 'http://192.169.0.1')).toBe(false);
  });

  it('allows IPv6 addresses and blocks, written in brackets in the URL and in any notation', () => {
    const endpoints = policy('2001:db8::1,fd00::/8');
    expect(allows(endpoints, 'http://[2001:db8::1]:11434')).toBe(true);
    expect(allows(endpoints, 'http://[2001:DB8:0:0:0:0:0:1]:11434')).toBe(true);
    expect(allows(endpoints, 'http://[2001:db8::2]:11434')).toBe(false);
    expect(allows(endpoints, 'http://[fd12:3456::7]')).toBe(true);
    expect(allows(endpoints, 'http://[fe80::1]')).toBe(false);
  });

  it('checks an address written another way as the address it is', () => {
    const endpoints = policy('10.0.0.0/8');
    expect(allows(endpoints, 'http://167772161:11434')).toBe(true); // 10.0.0.1
    expect(allows(endpoints, 'http://0x7f.1:11434')).toBe(false); // 127.0.0.1
    expect(allows(endpoints, 'http://[::ffff:10.0.0.5]:11434')).toBe(true);
    expect(allows(endpoints, 'http://[::ffff:169.254.169.254]')).toBe(false);
  });

  it('never resolves a name: an address does not allow a host name, nor a host name an address', () => {
    expect(allows(policy('127.0.0.1'), 'http://localhost:11434')).toBe(false);
    expect(allows(policy('localhost'), 'http://127.0.0.1:11434')).toBe(false);
  });

  it('refuses with a 400 that names the host', () => {
    const endpoints = policy('ollama.internal,10.0.0.0/8');
    const refusal = (endpoint: string): unknown => {
      try {
        endpoints.check(endpoint);
      } catch (error) {
        return error;
      }
      throw new Error(`expected ${endpoint} to be refused`);
    };
    const named = refusal('http://Evil.Example:11434/api');
    expect(named).toBeInstanceOf(BadRequestException);
    expect((named as BadRequestException).getStatus()).toBe(400);
    expect((named as BadRequestException).message).toBe(
      'endpoint host evil.example is not in AGENT_ENDPOINT_ALLOWLIST',
    );
    expect((refusal('http://[fe80::1]:11434') as Error).message).toBe(
      'endpoint host fe80::1 is not in AGENT_ENDPOINT_ALLOWLIST',
    );
  });
});
