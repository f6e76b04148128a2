// The controller URL policy (no SSRF): every spelling of a private or loopback address is refused.
import { describe, expect, it } from 'vitest';
import { api, authed, createUser, expectProblem, withVars } from './helpers';
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
    'https://metadata/computeMetadata/v1/', // a single-label (intranet) name
  ])('refuses %s', (url) => {
    expect(controllerUrlProblem(url, false)).toMatch(/private|loopback/);
  });

  it.each([
    'https://gateway.example.com/devices/1',
    'https://8.8.8.8/',
    'https://172.32.0.1/',
    'https://[2606:4700::1111]/',
    'https://[::ffff:8.8.8.8]/',
    'https://192.169.0.1:8443/x',
  ])('accepts %s', (url) => {
    expect(controllerUrlProblem(url, false)).toBeNull();
  });

  it('requires https:// and no credentials', () => {
    expect(controllerUrlProblem('http://gateway.example.com/', false)).toBe('must use https://');
    expect(controllerUrlProblem('ftp://gateway.example.com/', true)).toBe('must use https:// or http://');
    expect(controllerUrlProblem('https://user:pw@gateway.example.com/', false)).toBe('must not contain credentials');
    expect(controllerUrlProblem('gateway.example.com', false)).toBe('must be an absolute URL');
  });

  it('local development (ALLOW_INSECURE_CONTROLLER_URLS) accepts http:// and loopback', () => {
    expect(controllerUrlProblem('http://127.0.0.1:9000/device', true)).toBeNull();
    expect(controllerUrlProblem('http://localhost:9000/device', true)).toBeNull();
    expect(controllerUrlProblem('http://[::1]:9000/device', true)).toBeNull();
    expect(controllerUrlProblem('http://device.localhost:9000/', true)).toBeNull();
    expect(controllerUrlProblem('http://gateway.example.com/device', true)).toBeNull();
    expect(controllerUrlProblem('https://gateway.example.com/device', true)).toBeNull();
  });

  // The flag is for a fake controller on this computer, not a licence to reach the network around it.
  it.each([
    'http://169.254.169.254/latest/meta-data/', // AWS, GCP, Azure metadata
    'http://[fd00:ec2::254]/latest/meta-data/', // AWS metadata over IPv6
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://metadata/computeMetadata/v1/', // a bare intranet name
    'http://100.100.100.200/latest/meta-data/', // Alibaba metadata (carrier-grade NAT range)
    'http://[fe80::1]/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'https://192.168.1.1/',
    'http://printer.local/',
    'http://[::ffff:169.254.169.254]/',
    'http://0.0.0.0:9000/',
    'http://[::]:9000/',
  ])('local development still refuses %s', (url) => {
    expect(controllerUrlProblem(url, true)).toMatch(/private|link-local/);
  });

  it('isPrivateHost reads the hostnames the URL parser produces', () => {
    expect(isPrivateHost(new URL('https://0x7f.1/').hostname)).toBe(true);
    expect(isPrivateHost('example.com')).toBe(false);
  });
});

describe('controller URL policy over HTTP', () => {
  it('with ALLOW_INSECURE_CONTROLLER_URLS=true a machine may use a loopback http:// controller, never a metadata or private one', async () => {
    const u = await createUser();
    await withVars({ ALLOW_INSECURE_CONTROLLER_URLS: 'true' }, async () => {
      const local = await api.machines.$post(
        { json: { name: 'Press', location: 'Lab', controller_url: 'http://127.0.0.1:8797/' } },
        authed(u.access),
      );
      expect(local.status).toBe(201);
      for (const url of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[fd00:ec2::254]/',
        'http://metadata.google.internal/',
        'http://192.168.0.10/',
      ]) {
        const res = await api.machines.$post({ json: { name: 'Press', location: 'Lab', controller_url: url } }, authed(u.access));
        const problem = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
        expect(problem.errors).toEqual([expect.objectContaining({ path: 'controller_url' })]);
      }
    });
  });
});
