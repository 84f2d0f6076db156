#!/usr/bin/env node
// A native-solc look-alike over solc-js (WebAssembly), so that Ape, forge and Slither
// can compile without downloading a compiler binary.
//
// Surprising behaviour, on purpose:
//  - only `--version` and `--standard-json` are supported (that is all our tools call);
//  - the result is written with a blocking `fs.writeSync` loop: solc-js's own CLI truncates
//    piped output at 64 KiB;
//  - the exit code is 0 even when the JSON output holds errors, as native solc does.
'use strict';

const fs = require('fs');
const path = require('path');

const solc = require(path.join(__dirname, '..', '..', 'node_modules', 'solc'));

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false, inputFile: null };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      [arg, value] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
    }
    const next = () => (value !== null ? value : argv[++i]);
    switch (arg) {
      case '--version': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--base-path': opts.basePath = next(); break;
      case '--include-path': opts.includePaths.push(next()); break;
      case '--allow-paths': opts.allowPaths.push(...next().split(',')); break;
      default:
        if (arg.startsWith('--')) {
          // Options such as --opt=value or --no-color: accepted and ignored.
          break;
        }
        opts.inputFile = arg;
    }
  }
  return opts;
}

function writeAll(fd, text) {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

function readStdin() {
  const chunks = [];
  const buffer = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, buffer, 0, buffer.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') continue;
      if (err.code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function version() {
  const full = solc.version().replace('.Emscripten.clang', '');
  return `solc, the solidity compiler commandline interface\nVersion: ${full}\n`;
}

function makeImportResolver(opts) {
  const cwd = process.cwd();
  const roots = [];
  if (opts.basePath) roots.push(path.resolve(cwd, opts.basePath));
  for (const p of opts.includePaths) roots.push(path.resolve(cwd, p));
  roots.push(cwd);
  for (const p of opts.allowPaths) if (p) roots.push(path.resolve(cwd, p));
  const nodeModules = [path.join(cwd, 'node_modules'), path.join(__dirname, '..', '..', 'node_modules')];
  if (opts.basePath) nodeModules.unshift(path.join(path.resolve(cwd, opts.basePath), 'node_modules'));

  return function findImports(importPath) {
    const candidates = [];
    if (path.isAbsolute(importPath)) candidates.push(importPath);
    for (const root of roots) candidates.push(path.join(root, importPath));
    for (const nm of nodeModules) candidates.push(path.join(nm, importPath));
    for (const candidate of candidates) {
      try {
        if (fs.statSync(candidate).isFile()) return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (_) { /* try the next one */ }
    }
    return { error: `File not found: ${importPath}` };
  };
}

function inlineUrlSources(input, findImports) {
  for (const [name, source] of Object.entries(input.sources || {})) {
    if (source.content !== undefined || !Array.isArray(source.urls)) continue;
    for (const url of source.urls) {
      const found = findImports(url);
      if (found.contents !== undefined) {
        input.sources[name] = { content: found.contents };
        break;
      }
    }
  }
  return input;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    writeAll(1, version());
    return 0;
  }
  if (!opts.standardJson) {
    writeAll(2, 'tradefin solc shim: only --version and --standard-json are supported\n');
    return 1;
  }
  const raw = opts.inputFile ? fs.readFileSync(opts.inputFile, 'utf8') : readStdin();
  const findImports = makeImportResolver(opts);
  let input;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    writeAll(1, JSON.stringify({ errors: [{ type: 'JSONError', component: 'general', severity: 'error', message: `Invalid input JSON: ${err.message}`, formattedMessage: `JSONError: ${err.message}` }] }));
    return 0;
  }
  inlineUrlSources(input, findImports);
  const output = solc.compile(JSON.stringify(input), { import: findImports });
  writeAll(1, output);
  return 0;
}

process.exitCode = main();
