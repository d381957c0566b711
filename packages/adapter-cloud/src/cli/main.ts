#!/usr/bin/env node
import { processOutput } from './output.js';
import { createProgram } from './program.js';
import { report, runCli } from './run.js';

// An error escaping later (a server already serving) still ends as one line, not a stack.
process.on('uncaughtException', (error) => {
  process.exitCode = report(error, createProgram(processOutput), processOutput, process.env);
  process.exit();
});

process.exitCode = await runCli(process.argv.slice(2));
