import { describe, expect, it } from 'vitest';
import { natsServersWithCredentials } from './nats-url.js';

describe('natsServersWithCredentials', () => {
  it('passes URLs without credentials through unchanged', () => {
    expect(natsServersWithCredentials(['nats://a:4222', 'b:4222'])).toEqual({
      servers: ['nats://a:4222', 'b:4222'],
    });
  });

  it('takes user:password out of the URLs, percent-decoded, and applies it to URLs without any', () => {
    expect(natsServersWithCredentials(['nats://svc:p%40ss%3Aw@n1:4222', 'nats://n2:4222'])).toEqual({
      servers: ['nats://n1:4222', 'nats://n2:4222'],
      user: 'svc',
      pass: 'p@ss:w',
    });
  });

  it('reads a lone userinfo as a token, with or without a scheme', () => {
    expect(natsServersWithCredentials(['s3cret@127.0.0.1:4222'])).toEqual({
      servers: ['127.0.0.1:4222'],
      token: 's3cret',
    });
  });

  it('refuses different credentials on two URLs without naming either', () => {
    const attempt = () => natsServersWithCredentials(['nats://u:one@a', 'nats://u:two@b'], 'NATS_URL');
    expect(attempt).toThrow(/^NATS_URL: every URL that carries credentials must carry the same ones$/);
  });

  it('refuses broken percent-encoding without echoing it', () => {
    const attempt = () => natsServersWithCredentials(['nats://u:%zz-secret@a']);
    expect(attempt).toThrow(TypeError);
    expect(attempt).not.toThrow(/secret/);
  });
});
