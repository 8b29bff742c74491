// The fake GPU's state, shared by the fake nvidia-smi, the fake workload and
// the TypeScript helper that tests use. Two kinds of file, so that concurrent
// writers never corrupt each other:
//   <state>.json              GPUs, foreign processes, delay and failure mode;
//                             written by the test only, always temp + rename.
//   <state>.registered/<pid>  one file per running fake workload, written by
//                             that workload (temp + rename) and removed on exit.
// A reader sees either the old or the new whole file, never half of one.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function registrationDir(stateFile) {
  return `${stateFile}.registered`;
}

function writeJsonAtomic(file, value) {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(value));
  fs.renameSync(temp, file);
}

function readState(stateFile) {
  return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
}

// A workload killed without the chance to unregister leaves its file; the
// driver frees a dead process's memory, so the fake ignores dead pids (and
// zombies, which hold no GPU memory either).
function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Registrations of live workloads: { pid, gpu, usedMemoryMb, name }. */
function liveRegistrations(stateFile) {
  const dir = registrationDir(stateFile);
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    try {
      const entry = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (isAlive(entry.pid)) found.push(entry);
    } catch {
      // Unregistered between the listing and the read.
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

function register(stateFile, entry) {
  fs.mkdirSync(registrationDir(stateFile), { recursive: true });
  writeJsonAtomic(path.join(registrationDir(stateFile), `${entry.pid}.json`), entry);
}

function unregister(stateFile, pid) {
  fs.rmSync(path.join(registrationDir(stateFile), `${pid}.json`), { force: true });
}

module.exports = { registrationDir, writeJsonAtomic, readState, liveRegistrations, register, unregister, isAlive };
