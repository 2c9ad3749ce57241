import { describe, expect, it } from 'vitest';
import { deliverySequences } from './stream-consumer.js';

describe('deliverySequences (reply subject of a JetStream message)', () => {
  it('reads the stream and delivery sequences of both reply formats, with and without the known prefix', () => {
    const old = '$JS.ACK.AUTHMESH_REVOCATIONS.authmesh_X1.1.123456.789.1733030000000000000.42';
    expect(deliverySequences(old)).toEqual([123456, 789]);
    expect(deliverySequences(old, '$JS.ACK.AUTHMESH_REVOCATIONS.authmesh_X1.')).toEqual([123456, 789]);
    // Another consumer's prefix: the generic parse still applies.
    expect(deliverySequences(old, '$JS.ACK.AUTHMESH_REVOCATIONS.other.')).toEqual([123456, 789]);
    const domain = '$JS.ACK.hub.ACCHASH.AUTHMESH_REVOCATIONS.authmesh_X1.2.77.5.1733030000000000000.0.rnd';
    expect(deliverySequences(domain)).toEqual([77, 5]);
    const noToken = '$JS.ACK._.ACCHASH.AUTHMESH_REVOCATIONS.authmesh_X1.1.9007199254740.3.1.0';
    expect(deliverySequences(noToken)).toEqual([9007199254740, 3]);
  });

  it('refuses anything else', () => {
    for (const reply of [
      '',
      '_INBOX.abc',
      '$JS.ACK.S.C.1.2',
      '$JS.ACK.S.C.1.x2.3.4.5',
      '$JS.ACK.S.C.1..3.4.5',
      '$JS.ACK.S.C.1.2.-3.4.5',
      '$JS.ACK.S.C.1.12345678901234567.3.4.5',
    ])
      expect(deliverySequences(reply), reply).toBeUndefined();
    expect(deliverySequences('$JS.ACK.S.C.1.x.3.4.5', '$JS.ACK.S.C.')).toBeUndefined();
  });
});
