import { describe, expect, it } from 'vitest';
import { AuthConfigError } from './auth-error.js';
import { RemoteJwks } from './remote-jwks.js';

// The fetching itself is tested end to end against a key set server on 127.0.0.1
// (test/auth-jwks.test.ts); these are the checks made before anything is fetched.

describe('RemoteJwks.create', () => {
  it('accepts https anywhere and http on loopback only', () => {
    for (const url of [
      'https://example.auth0.com/.well-known/jwks.json',
      'http://127.0.0.1:9000/jwks.json',
      'http://localhost/jwks.json',
      'http://[::1]:8080/jwks.json',
    ])
      expect(RemoteJwks.create(url).url.href).toBe(new URL(url).href);
  });

  it.each([
    [
      'http://login.example.com/jwks.json',
      'jwksUrl must use https: (plain http: only on localhost), not "http://login.example.com/jwks.json"',
    ],
    [
      'http://127.0.0.1.nip.io/jwks.json',
      'jwksUrl must use https: (plain http: only on localhost), not "http://127.0.0.1.nip.io/jwks.json"',
    ],
    [
      'file:///etc/jwks.json',
      'jwksUrl must use https: (plain http: only on localhost), not "file:///etc/jwks.json"',
    ],
    ['not a url', 'jwksUrl "not a url" is not a URL'],
  ])('refuses %s', (url, reason) => {
    expect(() => RemoteJwks.create(url)).toThrow(AuthConfigError);
    expect(() => RemoteJwks.create(url)).toThrow(expect.objectContaining({ reason }));
  });

  it('refuses impossible bounds', () => {
    expect(() => RemoteJwks.create('https://a.example/j', { timeoutMs: -1 })).toThrow(
      expect.objectContaining({ reason: 'timeoutMs must be a whole number ≥ 0' }),
    );
    expect(() => RemoteJwks.create('https://a.example/j', { cooldownMs: 0.5 })).toThrow(
      expect.objectContaining({ reason: 'cooldownMs must be a whole number ≥ 0' }),
    );
  });

  it('has no keys before the first token', () => {
    expect(RemoteJwks.create('https://a.example/j').current()).toBeUndefined();
  });
});
