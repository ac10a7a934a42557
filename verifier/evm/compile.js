// Compiles a Solidity file with solc-js (pinned in package.json) and prints, as JSON, the
// creation and runtime bytecode of every contract in it.
// Usage: node compile.js FILE.sol [--no-optimize]
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const file = process.argv[2];
if (!file) {
  console.error('usage: node compile.js FILE.sol [--no-optimize]');
  process.exit(2);
}
const optimize = !process.argv.includes('--no-optimize');
const input = {
  language: 'Solidity',
  sources: { [path.basename(file)]: { content: fs.readFileSync(file, 'utf8') } },
  settings: {
    optimizer: { enabled: optimize, runs: 200 },
    metadata: { bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const result = { compiler: solc.version(), optimize, contracts: {} };
for (const [name, c] of Object.entries(out.contracts[path.basename(file)])) {
  result.contracts[name] = {
    creation: c.evm.bytecode.object,
    runtime: c.evm.deployedBytecode.object,
  };
}
process.stdout.write(JSON.stringify(result) + '\n');
