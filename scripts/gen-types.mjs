// Regenerates the TypeScript types of the .proto files with proto-loader-gen-types, using the same
// loader options as the runtime: authmesh.v1 into the client package (which ships those protos),
// echo.v1 into the echo service (the demo's types live with the demo), and the authmesh .proto files
// copied into the interceptor package. With --check, generates into a
// temp dir and fails if the committed types drift.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const check = process.argv.includes('--check');
const targets = [
  {
    dir: 'packages/client/src/proto/gen',
    includeDirs: ['packages/client/proto'],
    files: ['authmesh/v1/auth.proto', 'authmesh/v1/options.proto'],
  },
  {
    dir: 'services/echo/src/gen',
    includeDirs: ['proto', 'packages/client/proto'],
    files: ['echo/v1/echo.proto'],
  },
];

const list = (dir) =>
  readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? list(join(dir, f)) : [join(dir, f)],
  );

let drift = false;
for (const { dir, includeDirs, files } of targets) {
  const out = check ? mkdtempSync(join(tmpdir(), 'authmesh-gen-')) : dir;
  if (!check) rmSync(dir, { recursive: true, force: true });
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
      ...includeDirs.flatMap((d) => ['-I', d]),
      '-O',
      out,
      ...files,
    ],
    { stdio: 'inherit' },
  );
  if (!check) continue;
  const a = list(out)
    .map((f) => relative(out, f))
    .sort();
  const b = list(dir)
    .map((f) => relative(dir, f))
    .sort();
  if (
    a.join() !== b.join() ||
    a.some((f) => readFileSync(join(out, f), 'utf8') !== readFileSync(join(dir, f), 'utf8'))
  ) {
    console.error(`generated proto types in ${dir} are out of date: run \`npm run gen\` and commit`);
    drift = true;
  }
  rmSync(out, { recursive: true, force: true });
}
// @authmesh/interceptor ships its own copy of authmesh's .proto folder (DESIGN.md: `protoDir` is a folder
// shipped in that package); the client package's is the source.
const protoSource = 'packages/client/proto/authmesh/v1';
const protoCopy = 'packages/interceptor/proto/authmesh/v1';
for (const f of readdirSync(protoSource)) {
  if (!check) {
    mkdirSync(protoCopy, { recursive: true });
    copyFileSync(join(protoSource, f), join(protoCopy, f));
  } else if (readFileSync(join(protoSource, f), 'utf8') !== safeRead(join(protoCopy, f))) {
    console.error(
      `${join(protoCopy, f)} differs from ${join(protoSource, f)}: run \`npm run gen\` and commit`,
    );
    drift = true;
  }
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

if (drift) process.exit(1);
if (check) console.log('generated proto types are up to date');
