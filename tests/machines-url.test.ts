// The controller URL policy (no SSRF): every spelling of a private or loopback address is refused.
import { describe, expect, it } from 'vitest';
import { controllerUrlProblem, isPrivateHost } from '../src/modules/machines/controller-url';

describe('controller URL policy', () => {
  it.each([
    'https://localhost/',
    'https://LOCALHOST./',
    'https://api.localhost/',
    'https://printer.local/',
    'https://db.internal/',
    'https://127.0.0.1/',
    'https://127.1.2.3:8443/',
    'https://2130706433/', // decimal 127.0.0.1
    'https://0x7f000001/', // hex
    'https://0x7f.1/',
    'https://0177.0.0.1/', // octal
    'https://0.0.0.0/',
    'https://0/',
    'https://10.0.0.1/',
    'https://172.16.0.1/',
    'https://172.31.255.255/',
    'https://192.168.1.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://100.64.0.1/',
    'https://[::1]/',
    'https://[::]/',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://[::ffff:127.0.0.1]/', // IPv4-mapped
    'https://[::ffff:7f00:1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
    'https://[fc00::1]/',
    'https://[fd12:3456::1]/',
    'https://[fe80::1]/',
    'https://[ff02::1]/',
  ])('refuses %s', (url) => {
    expect(controllerUrlProblem(url, false)).toMatch(/private|loopback/);
  });

  it.each(['https://gateway.example.com/devices/1', 'https://8.8.8.8/', 'https://172.32.0.1/', 'https://[2606:4700::1111]/', 'https://[::ffff:8.8.8.8]/', 'https://192.169.0.1:8443/x'])(
    'accepts %s',
    (url) => {
      expect(controllerUrlProblem(url, false)).toBeNull();
    },
  );

  it('requires https:// and no credentials', () => {
    expect(controllerUrlProblem('http://gateway.example.com/', false)).toBe('must use https://');
    expect(controllerUrlProblem('ftp://gateway.example.com/', true)).toBe('must use https:// or http://');
    expect(controllerUrlProblem('https://user:pw@gateway.example.com/', false)).toBe('must not contain credentials');
    expect(controllerUrlProblem('gateway.example.com', false)).toBe('must be an absolute URL');
  });

  it('local development (ALLOW_INSECURE_CONTROLLER_URLS) accepts http:// and loopback', () => {
    expect(controllerUrlProblem('http://127.0.0.1:9000/device', true)).toBeNull();
    expect(controllerUrlProblem('http://localhost:9000/device', true)).toBeNull();
  });

  it('isPrivateHost reads the hostnames the URL parser produces', () => {
    expect(isPrivateHost(new URL('https://0x7f.1/').hostname)).toBe(true);
    expect(isPrivateHost('example.com')).toBe(false);
  });
});
