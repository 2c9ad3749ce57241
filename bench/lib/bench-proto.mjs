import { fileURLToPath } from 'node:url';

/** The bench-only proto (bench.v1.Bench: Public + Authed with the same messages). */
export const benchProtoFile = fileURLToPath(new URL('../proto/bench.proto', import.meta.url));

/** `Msg{message:"ping"}` in protobuf wire format (field 1, length-delimited), pre-serialized once. */
export const pingMessage = Buffer.from([0x0a, 4, ...Buffer.from('ping')]);
