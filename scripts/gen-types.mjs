// Regenerates packages/proto/src/gen from proto/ with proto-loader-gen-types, using the same loader
// options as the runtime. With --check, generates into a temp dir and fails if the committed types drift.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const check = process.argv.includes('--check');
const target = 'packages/proto/src/gen';
const out = check ? mkdtempSync(join(tmpdir(), 'authmesh-gen-')) : target;
if (!check) rmSync(target, { recursive: true, force: true });

execFileSync(
  'npx',
  [
    'proto-loader-gen-types',
    '--keepCase',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.js',
    '-I',
    'proto',
    '-O',
    out,
    'authmesh/v1/auth.proto',
    'authmesh/v1/options.proto',
    'echo/v1/echo.proto',
  ],
  { stdio: 'inherit' },
);

if (check) {
  const list = (dir) =>
    readdirSync(dir).flatMap((f) =>
      statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)],
    );
  const a = list(out)
    .map((f) => relative(out, f))
    .sort();
  const b = list(target)
    .map((f) => relative(target, f))
    .sort();
  const drift =
    a.join() !== b.join() ||
    a.some((f) => readFileSync(join(out, f), 'utf8') !== readFileSync(join(target, f), 'utf8'));
  rmSync(out, { recursive: true, force: true });
  if (drift) {
    console.error('generated proto types are out of date: run `npm run gen` and commit');
    process.exit(1);
  }
  console.log('generated proto types are up to date');
}
